using ZetaPrep.Pipeline;

namespace ZetaPrep.Tests.Pipeline;

public sealed class OutputLockNameTests
{
    [Theory]
    [InlineData(".zetaprep.lock")]
    [InlineData(".zetaprep.worker-0-of-2.lock")]
    [InlineData(".zetaprep.worker-15-of-16.lock")]
    public void GeneratesLockNames_AtTheRoot_AreLockFiles(string name) => Assert.True(OutputLock.IsLockFile(name));

    [Theory]
    [InlineData("data/.zetaprep.lock")]
    [InlineData("images/.zetaprep.worker-0-of-2.lock")]
    [InlineData(".zetaprep.lock.tmp")]
    [InlineData("zetaprep.lock")]
    [InlineData(".zetaprep.worker-x-of-2.lock")]
    [InlineData(".zetaprep.worker-0-of-.lock")]
    [InlineData(".zetaprep.worker-0-of-2.lock\n")]
    [InlineData(".ZETAPREP.LOCK")]
    public void OtherNames_AreNot(string name) => Assert.False(OutputLock.IsLockFile(name));

    [Fact]
    public void TheNamesARunLocks_AreLockFiles()
    {
        Assert.Equal(".zetaprep.lock", OutputLock.FileNameFor(null));
        Assert.Equal(".zetaprep.worker-3-of-8.lock", OutputLock.FileNameFor(new WorkerSpec(3, 8)));
        Assert.True(OutputLock.IsLockFile(OutputLock.FileNameFor(null)));
        Assert.True(OutputLock.IsLockFile(OutputLock.FileNameFor(new WorkerSpec(3, 8))));
    }
}
