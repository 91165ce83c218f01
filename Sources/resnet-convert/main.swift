import ResNetCLI

ConvertCommand.main()
