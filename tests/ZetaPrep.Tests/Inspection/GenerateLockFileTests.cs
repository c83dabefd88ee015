using ZetaPrep.Inspection;

namespace ZetaPrep.Tests.Inspection;

public sealed class GenerateLockFileTests
{
    [Theory]
    [InlineData(".zetaprep.lock")]
    [InlineData(".zetaprep.worker-0-of-2.lock")]
    [InlineData(".zetaprep.worker-15-of-16.lock")]
    public void GeneratesLockNames_AtTheRoot_AreLockFiles(string name) => Assert.True(GenerateLockFile.IsLockFile(name));

    [Theory]
    [InlineData("data/.zetaprep.lock")]
    [InlineData("images/.zetaprep.worker-0-of-2.lock")]
    [InlineData(".zetaprep.lock.tmp")]
    [InlineData("zetaprep.lock")]
    [InlineData(".zetaprep.worker-x-of-2.lock")]
    [InlineData(".zetaprep.worker-0-of-.lock")]
    [InlineData(".zetaprep.worker-0-of-2.lock\n")]
    [InlineData(".ZETAPREP.LOCK")]
    public void OtherNames_AreNot(string name) => Assert.False(GenerateLockFile.IsLockFile(name));
}
