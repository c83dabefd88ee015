using System.Runtime.CompilerServices;

namespace ZetaPrep.TestSupport;

/// <summary>Linked into every test project: keeps the tests' file-hash cache (ZETAPREP_CACHE_DIR, inherited by child processes) out of the user's home.</summary>
internal static class CacheTestSetup
{
    [ModuleInitializer]
    internal static void Initialize()
    {
        var dir = Directory.CreateTempSubdirectory("zetaprep-test-cache-").FullName;
        Environment.SetEnvironmentVariable("ZETAPREP_CACHE_DIR", dir);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
                // A child process may still be writing there; the temp folder is the system's to clean.
            }
        };
    }
}
