using System.Data.Common;
using DuckDB.NET.Data;

namespace ZetaPrep.Tests.Shards;

/// <summary>DuckDB as an independent reader of our output (in-memory database, one connection per query).</summary>
internal static class DuckDb
{
    /// <summary>Runs a query and maps every row.</summary>
    public static List<T> Query<T>(string sql, Func<DbDataReader, T> map)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using DbCommand command = connection.CreateCommand();
        command.CommandText = sql;
        using DbDataReader reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    /// <summary>The first column of the single row a query returns.</summary>
    public static T Scalar<T>(string sql) => Assert.Single(Query(sql, r => r.GetFieldValue<T>(0)));

    /// <summary>A SQL string literal.</summary>
    public static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>A BLOB column: DuckDB.NET hands those out as streams, not byte[].</summary>
    public static byte[] Blob(DbDataReader reader, int ordinal)
    {
        using Stream stream = reader.GetStream(ordinal);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>Parquet key-value metadata of a file, keys and values decoded as UTF-8.</summary>
    public static Dictionary<string, string> KeyValueMetadata(string parquetPath) =>
        Query($"SELECT decode(key), decode(value) FROM parquet_kv_metadata({Literal(parquetPath)})", r => (Key: r.GetString(0), Value: r.GetString(1)))
            .ToDictionary(p => p.Key, p => p.Value);
}
