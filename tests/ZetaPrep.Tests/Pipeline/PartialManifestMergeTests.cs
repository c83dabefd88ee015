using ZetaPrep.Manifests;
using ZetaPrep.Pipeline;

namespace ZetaPrep.Tests.Pipeline;

public sealed class PartialManifestMergeTests
{
    [Theory]
    [InlineData("zetaprep generate --in a --out b --worker 0/3 -q", "zetaprep generate --in a --out b -q")]
    [InlineData("zetaprep generate --worker 2/4 --in a --out b --resume", "zetaprep generate --in a --out b --resume")]
    [InlineData("zetaprep generate --in a --workers 4 --out b", "zetaprep generate --in a --out b")]
    [InlineData("zetaprep generate --in a --worker=1/2 --workers=2 --out b", "zetaprep generate --in a --out b")]
    [InlineData("zetaprep generate --in 'my imgs' --out 'it'\\''s' --worker 1/2", "zetaprep generate --in 'my imgs' --out 'it'\\''s'")]
    [InlineData("zetaprep generate --in a --out b", "zetaprep generate --in a --out b")]
    public void WholeDatasetCommand_DropsOnlyTheWorkerOptions(string worker, string whole) =>
        Assert.Equal(whole, PartialManifestMerge.WholeDatasetCommand(worker));

    [Theory]
    [InlineData("plain")]
    [InlineData("with space")]
    [InlineData("it's")]
    [InlineData("")]
    [InlineData("tab\there")]
    public void ShellWords_SplitUndoesJoin(string word)
    {
        string[] words = ["zetaprep", "--in", word, "--out", "x"];
        Assert.Equal(words, ShellWords.Split(ShellWords.Join(words)));
    }
}
