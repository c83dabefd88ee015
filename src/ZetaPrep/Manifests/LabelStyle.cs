namespace ZetaPrep.Manifests;

/// <summary>How a label CSV encodes the class of a row.</summary>
public enum LabelStyle
{
    /// <summary>One column holding a class name, or its index as a number (0, 1, 1.0).</summary>
    Class,

    /// <summary>One 0/1 (or probability) column per class, named like the class.</summary>
    OneHot,
}
