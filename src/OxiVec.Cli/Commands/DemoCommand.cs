namespace OxiVec.Cli.Commands; internal static class DemoCommand { public static System.CommandLine.Command Create() => new("demo", "x"); }
