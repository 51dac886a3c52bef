from baolaocai.cli import main

main()
