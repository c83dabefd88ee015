namespace ZetaPrep.Pipeline;

/// <summary>--on-error: stop at the first bad input (before any shard is written), or skip bad inputs and list them in the manifest.</summary>
public enum OnError
{
    Fail,
    Skip,
}
