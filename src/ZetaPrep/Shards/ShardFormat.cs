namespace ZetaPrep.Shards;

/// <summary>How a dataset's shards are stored on disk (<c>--format</c>).</summary>
public enum ShardFormat
{
    /// <summary>HuggingFace hub layout: <c>data/{split}-{i:05d}-of-{n:05d}.parquet</c>.</summary>
    Parquet,

    /// <summary>WebDataset tars <c>shard-{i:06d}.tar</c> (plain ustar) plus a wids <c>shardindex.json</c>.</summary>
    WebDataset,

    /// <summary><c>images/KEY.png</c> plus <c>labels.parquet</c>; shards are <c>labels/{split}-…parquet</c> label parts.</summary>
    Folder,
}
