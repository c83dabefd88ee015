namespace ZetaPrep.Planning;

/// <summary>
/// One output: the batch positions it mixes (dominant first, then ranks 2, 3, …), their ζ weights in the same
/// order, and γ.
/// </summary>
public sealed record MixRecipe(int[] Members, double[] Weights, double Gamma)
{
    public int Dominant => Members[0];
}
