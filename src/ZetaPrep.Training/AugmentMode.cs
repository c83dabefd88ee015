namespace ZetaPrep.Training;

/// <summary>Train-time augmentation applied to decoded images (never to validation images).</summary>
public enum AugmentMode
{
    /// <summary>Images go to the model as stored in the shards.</summary>
    None,

    /// <summary>The paper's "ERM" augmentations: random resized crop, rotation ±10°, horizontal flip.</summary>
    FlipCrop,
}
