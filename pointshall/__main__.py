from pointshall.cli import main

main()
