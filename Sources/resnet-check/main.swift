import ResNetCLI

CheckCommand.main()
