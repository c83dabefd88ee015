using System.IO.Compression;
using System.Text;
using SkiaSharp;

namespace ZetaPrep.Cli.Tests;

/// <summary>Tiny ISIC challenge downloads in the official layouts (FACTS.md §5), with the quirks of real downloads.</summary>
internal static class IsicFixtures
{
    public static byte[] Jpeg(int i) => ImageFixtures.Solid(12 + i % 3, 10, ImageFixtures.ColourOf(i).R, ImageFixtures.ColourOf(i).G, ImageFixtures.ColourOf(i).B, SKEncodedImageFormat.Jpeg);

    public static void Zip(string path, params (string Name, byte[] Data)[] entries)
    {
        using var file = File.Create(path);
        using var zip = new ZipArchive(file, ZipArchiveMode.Create);
        foreach (var (name, data) in entries)
        {
            using var s = zip.CreateEntry(name).Open();
            s.Write(data);
        }
    }

    /// <summary>UTF-8 with a BOM and CRLF line endings, as some downloads are.</summary>
    public static byte[] BomCrlf(params string[] lines) => [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(string.Join("\r\n", lines) + "\r\n")];

    public static byte[] Text(params string[] lines) => Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n");

    /// <summary>Image entries for ids under a root folder; every third upper-case .JPG, plus a __MACOSX shadow of the first.</summary>
    public static (string, byte[])[] Images(string root, IEnumerable<string> ids, int seed = 0)
    {
        var list = ids.Select((id, k) => ($"{root}/{id}{(k % 3 == 2 ? ".JPG" : ".jpg")}", Jpeg(seed + k))).ToList();
        list.Add(($"__MACOSX/{root}/._{ids.First()}.jpg", [0, 5, 22, 7]));
        return [.. list];
    }

    /// <summary>ISIC 2016 Part 3: training (name labels, no header; BOM + CRLF; ids with .jpg) and test (numeric 0/1/0.0/1.0).</summary>
    public static Dictionary<string, int> Write2016(string dir, bool test = false)
    {
        Directory.CreateDirectory(dir);
        if (!test)
        {
            var truth = new Dictionary<string, int> { ["ISIC_0000000"] = 0, ["ISIC_0000001"] = 1, ["ISIC_0000002"] = 0, ["ISIC_0000003"] = 1, ["ISIC_0000004"] = 0 };
            Zip(Path.Combine(dir, "ISBI2016_ISIC_Part3_Training_Data.zip"), Images("ISBI2016_ISIC_Part3_Training_Data", truth.Keys));
            File.WriteAllBytes(Path.Combine(dir, "ISBI2016_ISIC_Part3_Training_GroundTruth.csv"),
                BomCrlf("ISIC_0000000,benign", "ISIC_0000001,malignant", "ISIC_0000002.jpg,benign", "ISIC_0000003,malignant", "ISIC_0000004,benign"));
            return truth;
        }
        var t = new Dictionary<string, int> { ["ISIC_0000010"] = 0, ["ISIC_0000011"] = 1, ["ISIC_0000012"] = 0, ["ISIC_0000013"] = 1 };
        Zip(Path.Combine(dir, "ISBI2016_ISIC_Part3_Test_Data.zip"), Images("ISBI2016_ISIC_Part3_Test_Data", t.Keys, 10));
        File.WriteAllBytes(Path.Combine(dir, "ISBI2016_ISIC_Part3_Test_GroundTruth.csv"), Text("ISIC_0000010,0.0", "ISIC_0000011,1.0", "ISIC_0000012,0", "ISIC_0000013,1"));
        return t;
    }

    /// <summary>ISIC 2017 Part 3 training: superpixel masks and a metadata CSV inside the zip; nevus = neither column set.</summary>
    /// <param name="dir">The download folder.</param>
    /// <param name="groundTruth">The label CSV's text instead of the default rows.</param>
    /// <param name="windowsNames">Name the zip's entries with '\' between folders, as Windows tools may.</param>
    public static Dictionary<string, int> Write2017(string dir, string? groundTruth = null, bool windowsNames = false)
    {
        Directory.CreateDirectory(dir);
        var truth = new Dictionary<string, int> { ["ISIC_0000000"] = 2, ["ISIC_0000001"] = 0, ["ISIC_0000002"] = 1, ["ISIC_0000003"] = 2, ["ISIC_0000004"] = 0 };
        const string root = "ISIC-2017_Training_Data";
        var entries = Images(root, truth.Keys).ToList();
        entries.AddRange(truth.Keys.Select((id, k) => ($"{root}/{id}_superpixels.png", ImageFixtures.Solid(12, 10, 1, 2, 3))));
        entries.Add(($"{root}/{root}_metadata.csv", Text("image_id,age_approximate,sex", "ISIC_0000000,55,female")));
        Zip(Path.Combine(dir, $"{root}.zip"), [.. entries.Select(e => windowsNames ? (e.Item1.Replace('/', '\\'), e.Item2) : e)]);
        File.WriteAllBytes(Path.Combine(dir, "ISIC-2017_Training_Part3_GroundTruth.csv"), Text(groundTruth?.Split('\n') ??
            ["image_id,melanoma,seborrheic_keratosis", "ISIC_0000000,0.0,0.0", "ISIC_0000001,1.0,0.0", "ISIC_0000002,0.0,1.0", "ISIC_0000003,0.0,0.0", "ISIC_0000004,1.0,0.0"]));
        return truth;
    }

    /// <summary>ISIC 2018 Task 3 training: CSV inside a zip under an inner folder; ATTRIBUTION/LICENSE text files in both zips.</summary>
    public static Dictionary<string, int> Write2018(string dir)
    {
        Directory.CreateDirectory(dir);
        string[] classes = ["MEL", "NV", "BCC", "AKIEC", "BKL", "DF", "VASC"];
        var truth = Enumerable.Range(0, 8).ToDictionary(i => $"ISIC_00243{i:D2}", i => i % 7);
        var images = Images("ISIC2018_Task3_Training_Input", truth.Keys).ToList();
        images.Add(("ISIC2018_Task3_Training_Input/ATTRIBUTION.txt", Text("HAM10000")));
        images.Add(("ISIC2018_Task3_Training_Input/LICENSE.txt", Text("CC-BY-NC")));
        Zip(Path.Combine(dir, "ISIC2018_Task3_Training_Input.zip"), [.. images]);
        var rows = truth.Select(kv => kv.Key + "," + string.Join(",", classes.Select((_, c) => c == kv.Value ? "1.0" : "0.0")));
        Zip(Path.Combine(dir, "ISIC2018_Task3_Training_GroundTruth.zip"),
            ("ISIC2018_Task3_Training_GroundTruth/ISIC2018_Task3_Training_GroundTruth.csv", BomCrlf(["image," + string.Join(",", classes), .. rows])),
            ("ISIC2018_Task3_Training_GroundTruth/LICENSE.txt", Text("CC-BY-NC")),
            ("__MACOSX/ISIC2018_Task3_Training_GroundTruth/._ISIC2018_Task3_Training_GroundTruth.csv", [0, 1]));
        return truth;
    }

    /// <summary>ISIC 2019 training: 9 label columns, UNK never set; some ids carry the official `_downsampled` suffix.</summary>
    public static Dictionary<string, int> Write2019(string dir)
    {
        Directory.CreateDirectory(dir);
        var truth = new Dictionary<string, int> { ["ISIC_0000000"] = 1, ["ISIC_0000001"] = 0, ["ISIC_0000002_downsampled"] = 7, ["ISIC_0000003"] = 3, ["ISIC_0000004"] = 1 };
        Zip(Path.Combine(dir, "ISIC_2019_Training_Input.zip"), Images("ISIC_2019_Training_Input", truth.Keys));
        var rows = truth.Select(kv => kv.Key + "," + string.Join(",", Enumerable.Range(0, 9).Select(c => c == kv.Value ? "1.0" : "0.0")));
        File.WriteAllBytes(Path.Combine(dir, "ISIC_2019_Training_GroundTruth.csv"), Text(["image,MEL,NV,BCC,AK,BKL,DF,VASC,SCC,UNK", .. rows]));
        return truth;
    }

    /// <summary>ISIC 2020 training: images under train/, binary `target`, and a duplicates list.</summary>
    public static Dictionary<string, int> Write2020(string dir)
    {
        Directory.CreateDirectory(dir);
        var truth = new Dictionary<string, int> { ["ISIC_2000000"] = 0, ["ISIC_2000001"] = 1, ["ISIC_2000002"] = 0, ["ISIC_2000003"] = 0, ["ISIC_2000004"] = 1 };
        Zip(Path.Combine(dir, "ISIC_2020_Training_JPEG.zip"), Images("train", truth.Keys));
        var rows = truth.Select(kv => $"{kv.Key},IP_{kv.Key[^3..]},IL_1,male,45.0,torso,{(kv.Value == 1 ? "melanoma" : "nevus")},{(kv.Value == 1 ? "malignant" : "benign")},{kv.Value}");
        File.WriteAllBytes(Path.Combine(dir, "ISIC_2020_Training_GroundTruth.csv"),
            Text(["image_name,patient_id,lesion_id,sex,age_approx,anatom_site_general_challenge,diagnosis,benign_malignant,target", .. rows]));
        File.WriteAllBytes(Path.Combine(dir, "ISIC_2020_Training_Duplicates.csv"), Text("image_name_1,image_name_2", "ISIC_2000000,ISIC_2000003"));
        return truth;
    }
}
