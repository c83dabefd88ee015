namespace ZetaPrep.Planning;

/// <summary>A batch of inputs (indices into the sorted listing) and its outputs; output k is dominated by input k.</summary>
public sealed record PlannedBatch(int Pass, int Index, long FirstRow, int[] Inputs, MixRecipe[] Outputs)
{
    /// <summary>The dense row-major [outputs × inputs] weight matrix W of out = W @ X, as float32.</summary>
    public float[] WeightMatrix()
    {
        var m = Inputs.Length;
        var w = new float[Outputs.Length * m];
        for (var k = 0; k < Outputs.Length; k++)
        {
            var recipe = Outputs[k];
            for (var i = 0; i < recipe.Members.Length; i++)
            {
                w[k * m + recipe.Members[i]] = (float)recipe.Weights[i];
            }
        }
        return w;
    }
}
