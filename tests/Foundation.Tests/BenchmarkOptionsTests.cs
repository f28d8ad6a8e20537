using System.CommandLine;
using CloudScale.Testing;

namespace CloudScale.Foundation.Tests;

public sealed class BenchmarkOptionsTests
{
    private static readonly Option<double> Seconds = BenchmarkOptions.PositiveNumber("--seconds", 3, "seconds");
    private static readonly Option<int> Count = BenchmarkOptions.PositiveInteger("--count", 1000, "count");
    private static readonly Option<int[]> Callers = BenchmarkOptions.PositiveIntegers("--callers", [1, 32], "callers");
    private static readonly Option<string[]> Only = BenchmarkOptions.Prefixes("--only", ["state get", "state save", "invoke (2 sidecars)"], "only");
    private static readonly RootCommand Command = new("benchmark") { Seconds, Count, Callers, Only };

    [Fact]
    public void Defaults_apply_when_an_option_is_not_given()
    {
        var parsed = Command.Parse([]);

        Assert.Empty(parsed.Errors);
        Assert.Equal(3, parsed.GetValue(Seconds));
        Assert.Equal(1000, parsed.GetValue(Count));
        Assert.Equal([1, 32], parsed.GetValue(Callers)!);
    }

    [Theory]
    [InlineData("1,8,32")]
    [InlineData("1, 8 ,32")]
    public void Lists_of_numbers_are_read_comma_separated(string callers)
    {
        var parsed = Command.Parse(["--callers", callers, "--seconds", "0.5", "--only", "state get, invoke"]);

        Assert.Empty(parsed.Errors);
        Assert.Equal([1, 8, 32], parsed.GetValue(Callers)!);
        Assert.Equal(0.5, parsed.GetValue(Seconds));
        Assert.Equal(["state get", "invoke"], parsed.GetValue(Only)!);
    }

    [Theory]
    [InlineData("--seconds", "abc", "--seconds must be a positive number, not 'abc'.")]
    [InlineData("--seconds", "0", "--seconds must be a positive number, not '0'.")]
    [InlineData("--seconds", "NaN", "--seconds must be a positive number, not 'NaN'.")]
    [InlineData("--count", "-5", "--count must be a positive whole number, not '-5'.")]
    [InlineData("--count", "1.5", "--count must be a positive whole number, not '1.5'.")]
    [InlineData("--callers", "1,x", "--callers takes positive whole numbers separated by commas; 'x' is not one.")]
    [InlineData("--callers", "1,0", "--callers takes positive whole numbers separated by commas; '0' is not one.")]
    [InlineData("--only", "state,publish", "--only 'publish' starts no name; the names are \"state get\", \"state save\", \"invoke (2 sidecars)\".")]
    public void A_bad_value_is_refused_with_an_error_naming_it(string option, string value, string error)
    {
        var parsed = Command.Parse([option, value]);

        Assert.Equal(error, Assert.Single(parsed.Errors).Message);
    }

    [Theory]
    [InlineData("--count none", 1, "--count must be a positive whole number, not 'none'.")]
    [InlineData("--help", 0, "Usage:")]
    public async Task Help_and_a_bad_value_end_the_command_with_their_exit_code_before_it_runs(string commandLine, int expectedExitCode, string expectedOutput)
    {
        var output = new StringWriter();

        var (_, exitCode) = await Command.ParseForRunAsync(commandLine.Split(' '), new InvocationConfiguration { Output = output, Error = output });

        Assert.Equal(expectedExitCode, exitCode);
        Assert.Contains(expectedOutput, output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_command_line_for_a_run_has_no_exit_code_and_gives_its_values()
    {
        var (parsed, exitCode) = await Command.ParseForRunAsync(["--seconds", "2"]);

        Assert.Null(exitCode);
        Assert.Equal(2, parsed.GetValue(Seconds));
    }
}
