namespace ZetaPrep.Imaging;

/// <summary>How an image of any aspect ratio becomes a square of side S.</summary>
public enum ResizeMode
{
    /// <summary>Resize the shorter side to S, then cut the centre S×S (the default).</summary>
    Crop,

    /// <summary>Resize the longer side to S and centre the image on black bars.</summary>
    Pad,

    /// <summary>Resize each side to S independently, ignoring the aspect ratio.</summary>
    Stretch,
}
