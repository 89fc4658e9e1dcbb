from stackscripts.cli.main import main

main()
