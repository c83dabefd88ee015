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
    [InlineData("1", "0", "1.0")]
    [InlineData("7", "3", "07")]
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
    public void AHeaderRowAddedToAFilePublishedWithout_IsNamedAsSuch()
    {
        var spec = new LabelSpec { File = "gt.csv", Header = false, Style = LabelStyle.Class };
        var e = Assert.Throws<ZetaPrepException>(() => Parse("image_id,label\nISIC_0000000,benign\n", spec, ["benign", "malignant"]));
        Assert.Equal("labels.csv line 1: 'image_id,label' is not a label row ('label' is not a class: benign, malignant); this file has no header row as published, so if that line is one, remove it.", e.Message);
        // A later row with a label that is no class is a bad row, as before.
        e = Assert.Throws<ZetaPrepException>(() => Parse("ISIC_0000000,benign\nISIC_0000001,maybe\n", spec, ["benign", "malignant"]));
        Assert.StartsWith("labels.csv line 2: image ISIC_0000001 has label 'maybe', which is not a class", e.Message, StringComparison.Ordinal);
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

    [Fact]
    public void ClassIndices_0To11_AreClassesInNumericOrder_AndEachRowsClassIsItsIndex()
    {
        var order = new[] { 7, 11, 0, 2, 10, 1, 3, 9, 4, 8, 6, 5 };
        var table = Parse("image,diagnosis\n" + string.Concat(order.Select(k => $"i{k},{k}\n")));
        Assert.Equal(Enumerable.Range(0, 12).Select(k => k.ToString(System.Globalization.CultureInfo.InvariantCulture)), table.ClassNames);
        Assert.All(table.Rows.Values, r => Assert.Equal(int.Parse(r.Id[1..], System.Globalization.CultureInfo.InvariantCulture), r.ClassIndex));
    }

    [Fact]
    public void NumericLabels_WithGapsOrFromOne_AreOrderedByValue_AndOtherwiseNamesSortOrdinally()
    {
        var fromOne = Parse("image,diagnosis\na,12\nb,3\nc,1\n");
        Assert.Equal(["1", "3", "12"], fromOne.ClassNames);
        Assert.Equal([2, 1, 0], fromOne.Rows.Values.OrderBy(r => r.Line).Select(r => r.ClassIndex));
        // Not all non-negative integers: names, in ordinal order.
        Assert.Equal(["-1", "10", "2"], Parse("image,diagnosis\na,2\nb,10\nc,-1\n").ClassNames);
        Assert.Equal(["10", "2", "cat"], Parse("image,diagnosis\na,2\nb,10\nc,cat\n").ClassNames);
    }

    [Fact]
    public void AValuePastTheHeadersLastColumn_IsRefused_ButTrailingEmptyFieldsAreFine()
    {
        // "p1,,benign" is the stray comma: by position the label column reads "" and benign fell off the end.
        var e = Assert.Throws<ZetaPrepException>(() => Parse("image,diagnosis\np0,benign\np1,,benign\np2,malignant\n"));
        Assert.Equal("labels.csv line 3: 3 fields where the header has 2 (a value past its last column, 'benign'); a stray comma shifts the row: fix it.", e.Message);

        var table = Parse("image,diagnosis\np0,benign,,\np1,malignant,\n");
        Assert.Equal(["benign", "malignant"], table.ClassNames);
        Assert.Equal(2, table.Rows.Count);
    }
}
