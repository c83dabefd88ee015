using System.Text;
using ZetaPrep.Manifests;
using ZetaPrep.Sources;

namespace ZetaPrep.Tests.Sources;

/// <summary>Class-column label files: which classes a column makes, and which class each row gets.</summary>
public sealed class LabelTableTests
{
    private static readonly LabelSpec ClassColumn = new() { File = "labels.csv", IdColumn = "image", Style = LabelStyle.Class, LabelColumn = "diagnosis" };

    private static LabelTable Parse(string text, LabelSpec? spec = null, IReadOnlyList<string>? classes = null)
    {
        spec ??= ClassColumn;
        return LabelTable.Parse(CsvTable.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)), spec.Header, "labels.csv"), "labels.csv", spec, classes);
    }

    [Theory]
    [InlineData("Benign", "malignant", "benign")]
    [InlineData("MEL", "NV", "Mel")]
    public void OneClassWrittenTwoWays_IsRefused_NamingBothSpellingsAndLines(string first, string other, string second)
    {
        // Two spellings would otherwise be two classes (a phantom one), or one row's class silently taken for the other's.
        var e = Assert.Throws<ZetaPrepException>(() => Parse($"image,diagnosis\ni0,{first}\ni1,{other}\ni2,{second}\ni3,{first}\n"));
        Assert.DoesNotContain('\n', e.Message);
        Assert.StartsWith("labels.csv line 4: ", e.Message, StringComparison.Ordinal);
        Assert.Contains($"'{second}'", e.Message, StringComparison.Ordinal);
        Assert.Contains($"'{first}' (line 2)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PresetClasses_StillMatchAnyCase()
    {
        // A preset names its classes; a CSV writing "Benign" for ISIC 2016's "benign" means that class, not a new one.
        var table = Parse("ISIC_0000000,Benign\nISIC_0000001,MALIGNANT\nISIC_0000002,1.0\n",
            new LabelSpec { File = "gt.csv", Header = false, Style = LabelStyle.Class }, ["benign", "malignant"]);
        Assert.Equal(["benign", "malignant"], table.ClassNames);
        Assert.Equal([0, 1, 1], table.Rows.Values.OrderBy(r => r.Line).Select(r => r.ClassIndex));
    }
}
