using System.Globalization;
using System.Text.RegularExpressions;

namespace ZetaPrep.Tests.Mixing;

/// <summary>
/// Runs one PTX entry on the CPU, thread by thread, block by block: the instruction subset the integer mixing kernel
/// uses, with the semantics of the PTX ISA manual (prmt's default mode, dp4a's unsigned dot product, bfe, predicated
/// execution, bar.sync as a point every thread of the block reaches before any goes on, cp.async as a copy that lands
/// in shared memory at the latest moment the ISA allows, when the issuing thread's cp.async.wait_group retires its
/// group, or with <see cref="EarlyCopies"/> at the earliest, when it is issued; mma.sync on bytes as a point every lane
/// of the warp reaches, then the product over the warp's fragments as the ISA lays them out). Unknown instructions, unknown
/// operands, reads of unwritten registers and memory accesses outside the given buffers fail the test, so the text
/// the driver would compile is what is checked, not a re-implementation of it.
/// </summary>
internal sealed partial class PtxInterpreter
{
    private readonly List<Instruction> _code = [];
    private readonly Dictionary<string, int> _labels = [];
    private readonly Dictionary<string, int> _registerWidths = [];
    private readonly List<string> _parameters = [];
    private readonly string _sharedSymbol;

    public PtxInterpreter(string module, string entry)
    {
        _sharedSymbol = SharedDeclaration().Match(module) is { Success: true } shared ? shared.Groups[1].Value : "";
        var start = module.IndexOf($".entry {entry}(", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no entry {entry}");
        var open = module.IndexOf("\n{", start, StringComparison.Ordinal);
        foreach (Match p in ParameterDeclaration().Matches(module[start..open]))
        {
            _parameters.Add(p.Groups[2].Value);
        }

        var end = module.IndexOf("\n}", open, StringComparison.Ordinal);
        foreach (var raw in module[(open + 2)..end].Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith(".reg", StringComparison.Ordinal))
            {
                var width = line.Contains(".b64", StringComparison.Ordinal) ? 64 : line.Contains(".pred", StringComparison.Ordinal) ? 1 : 32;
                foreach (var part in line[(line.IndexOf('%') - 0)..].TrimEnd(';').Split(','))
                {
                    var d = DeclaredRegister().Match(part.Trim());
                    Assert.True(d.Success, $"declaration '{line}'");
                    if (d.Groups[2].Success)
                    {
                        for (var i = 0; i < int.Parse(d.Groups[2].Value, CultureInfo.InvariantCulture); i++)
                        {
                            _registerWidths[d.Groups[1].Value + i.ToString(CultureInfo.InvariantCulture)] = width;
                        }
                    }
                    else
                    {
                        _registerWidths[d.Groups[1].Value] = width;
                    }
                }

                continue;
            }

            if (line.EndsWith(':'))
            {
                _labels.Add(line.TrimEnd(':'), _code.Count);
                continue;
            }

            Assert.EndsWith(";", line);
            _code.Add(Instruction.Parse(line.TrimEnd(';'), line));
        }

        foreach (var i in _code.Where(i => i.Op.StartsWith("bra", StringComparison.Ordinal)))
        {
            Assert.True(_labels.ContainsKey(i.Operands[0]), $"branch to an undefined label: '{i.Text}'");
        }
    }

    /// <summary>Instructions executed by the last <see cref="Run"/>, all threads together.</summary>
    public long Executed { get; private set; }

    /// <summary>
    /// Where the dynamic shared array starts in a block's shared window (0 unless set; a GPU may reserve the window's
    /// first bytes), so that a kernel which assumes it at 0 fails.
    /// </summary>
    public int SharedBase { get; init; }

    /// <summary>
    /// Whether cp.async copies land in shared memory as soon as they are issued (so that a copy into a tile other threads
    /// still read shows), rather than when a wait retires them (so that a read before the wait shows).
    /// </summary>
    public bool EarlyCopies { get; init; }

    /// <summary>
    /// Runs the grid; <paramref name="parameters"/> in declaration order (a byte[] is a global buffer, passed as its
    /// address; an int is a .u32).
    /// </summary>
    public void Run(uint gridX, uint gridY, int blockSize, int sharedBytes, params object[] parameters)
    {
        Assert.Equal(_parameters.Count, parameters.Length);
        var memory = new GlobalMemory();
        var values = new Dictionary<string, ulong>();
        for (var i = 0; i < parameters.Length; i++)
        {
            values[_parameters[i]] = parameters[i] switch
            {
                byte[] buffer => memory.Map(buffer),
                int u => (uint)u,
                uint u => u,
                _ => throw new ArgumentException($"parameter {i}: {parameters[i].GetType()}"),
            };
        }

        Executed = 0;
        for (uint by = 0; by < gridY; by++)
        {
            for (uint bx = 0; bx < gridX; bx++)
            {
                // Shared memory starts with garbage, as on a GPU: a tile byte read before the loads wrote it shows.
                var shared = new byte[SharedBase + sharedBytes];
                new Random((int)((by * gridX) + bx)).NextBytes(shared);
                var threads = Enumerable.Range(0, blockSize).Select(t => new ThreadState(this, memory, shared, values, (uint)t, bx, by, (uint)blockSize, gridX)).ToList();
                while (threads.Any(t => !t.Finished))
                {
                    foreach (var t in threads.Where(t => !t.Finished && !t.AtBarrier && t.AtMma is null))
                    {
                        t.RunToBarrier();
                    }

                    if (threads.Any(t => t.AtMma is not null))
                    {
                        // mma.sync is warp-collective (.aligned): every lane of the warp at the same instruction.
                        foreach (var warp in threads.Chunk(32).Where(w => w.Any(t => t.AtMma is not null)))
                        {
                            Assert.True(warp.Length == 32 && warp.All(t => ReferenceEquals(t.AtMma, warp[0].AtMma)), $"mma.sync reached by only some lanes of a warp: '{warp[0].AtMma?.Text}'");
                            Mma(warp, warp[0].AtMma!);
                        }

                        continue;
                    }

                    Assert.True(threads.All(t => t.Finished) || threads.All(t => t.AtBarrier), "bar.sync reached by only some threads of a block");
                    foreach (var t in threads)
                    {
                        t.AtBarrier = false;
                    }
                }

                Executed += threads.Sum(t => t.Executed);
            }
        }
    }

    /// <summary>
    /// mma.sync.aligned.m16n8k32.row.col.s32.u8.u8.s32 over one warp (PTX ISA, "Matrix Fragments for mma.m16n8k32"; lane
    /// = 4g + t): A 16×32 a0 row g, k 4t..4t+3 (byte b: k 4t + b), a1 row g + 8, a2 row g, k 16 + 4t.., a3 row g + 8, k
    /// 16 + 4t..; B 32×8 b0 column g, k 4t..4t+3, b1 column g, k 16 + 4t..; C and D 16×8 c0, c1 row g, columns 2t, 2t + 1,
    /// c2, c3 row g + 8. D = A·B + C, unsigned bytes, 32-bit sums.
    /// </summary>
    private static void Mma(ThreadState[] warp, Instruction i)
    {
        Assert.Equal("mma.sync.aligned.m16n8k32.row.col.s32.u8.u8.s32", i.Op);
        var a = new uint[16, 32];
        var b = new uint[32, 8];
        var c = new uint[16, 8];
        for (var lane = 0; lane < 32; lane++)
        {
            int g = lane / 4, t = lane % 4;
            var ra = warp[lane].ReadVector(i.Operands[1], 4);
            var rb = warp[lane].ReadVector(i.Operands[2], 2);
            var rc = warp[lane].ReadVector(i.Operands[3], 4);
            for (var n = 0; n < 4; n++)
            {
                var row = g + (8 * (n % 2));
                var k0 = (4 * t) + (16 * (n / 2));
                for (var bi = 0; bi < 4; bi++)
                {
                    a[row, k0 + bi] = (uint)(ra[n] >> (8 * bi)) & 0xFF;
                }
            }

            for (var n = 0; n < 2; n++)
            {
                for (var bi = 0; bi < 4; bi++)
                {
                    b[(4 * t) + (16 * n) + bi, g] = (uint)(rb[n] >> (8 * bi)) & 0xFF;
                }
            }

            for (var n = 0; n < 4; n++)
            {
                c[g + (8 * (n / 2)), (2 * t) + (n % 2)] = (uint)rc[n];
            }
        }

        for (var lane = 0; lane < 32; lane++)
        {
            int g = lane / 4, t = lane % 4;
            var d = new ulong[4];
            for (var n = 0; n < 4; n++)
            {
                int row = g + (8 * (n / 2)), column = (2 * t) + (n % 2);
                var sum = c[row, column];
                for (var k = 0; k < 32; k++)
                {
                    sum += a[row, k] * b[k, column];
                }

                d[n] = sum;
            }

            warp[lane].WriteVector(i.Operands[0], d);
            warp[lane].AtMma = null;
        }
    }

    private sealed record Instruction(string? Guard, bool Negated, string Op, string[] Operands, string Text)
    {
        public static Instruction Parse(string body, string text)
        {
            string? guard = null;
            var negated = false;
            if (body.StartsWith('@'))
            {
                var space = body.IndexOf(' ');
                guard = body[1..space];
                if (guard.StartsWith('!'))
                {
                    negated = true;
                    guard = guard[1..];
                }

                body = body[(space + 1)..].Trim();
            }

            var cut = body.IndexOf(' ');
            var op = cut < 0 ? body : body[..cut];
            var operands = new List<string>();
            if (cut >= 0)
            {
                var depth = 0;
                var current = "";
                foreach (var c in body[(cut + 1)..])
                {
                    depth += c is '{' or '[' ? 1 : c is '}' or ']' ? -1 : 0;
                    if (c == ',' && depth == 0)
                    {
                        operands.Add(current.Trim());
                        current = "";
                    }
                    else
                    {
                        current += c;
                    }
                }

                operands.Add(current.Trim());
            }

            return new Instruction(guard, negated, op, [.. operands], text);
        }
    }

    private sealed class GlobalMemory
    {
        private readonly List<(ulong Base, byte[] Buffer)> _buffers = [];
        private ulong _next = 0x7f00_0000_0000;

        public ulong Map(byte[] buffer)
        {
            var address = _next;
            _buffers.Add((address, buffer));
            _next += ((ulong)buffer.Length + 0x10000) & ~0xFFFFUL;
            return address;
        }

        public (byte[] Buffer, int Offset) Resolve(ulong address, int bytes)
        {
            foreach (var (start, buffer) in _buffers)
            {
                if (address >= start && address + (ulong)bytes <= start + (ulong)buffer.Length)
                {
                    Assert.True(address % (ulong)Math.Min(bytes, 16) == 0, $"misaligned {bytes}-byte access at {address - start}");
                    return (buffer, (int)(address - start));
                }
            }

            Assert.Fail($"global access of {bytes} bytes outside every buffer: 0x{address:x}");
            return default;
        }
    }

    private sealed class ThreadState(PtxInterpreter code, GlobalMemory memory, byte[] shared, Dictionary<string, ulong> parameters, uint tid, uint ctaX, uint ctaY, uint ntid, uint nctaX)
    {
        private readonly Dictionary<string, ulong> _registers = [];
        private readonly List<(int Offset, byte[] Bytes)> _copies = [];
        private readonly Queue<List<(int Offset, byte[] Bytes)>> _groups = new();
        private int _pc;

        public bool Finished { get; private set; }

        public bool AtBarrier { get; set; }

        /// <summary>The mma.sync this thread waits at for the rest of its warp (<see cref="Mma"/> runs it), or null.</summary>
        public Instruction? AtMma { get; set; }

        public ulong[] ReadVector(string operand, int count)
        {
            var regs = Vector(operand);
            Assert.Equal(count, regs.Length);
            return [.. regs.Select(Read)];
        }

        public void WriteVector(string operand, ulong[] values)
        {
            var regs = Vector(operand);
            Assert.Equal(values.Length, regs.Length);
            for (var k = 0; k < regs.Length; k++)
            {
                Write(regs[k], values[k]);
            }
        }

        public long Executed { get; private set; }

        public void RunToBarrier()
        {
            while (!Finished)
            {
                Assert.True(_pc < code._code.Count, "ran past the end without ret");
                var i = code._code[_pc++];
                Executed++;
                Assert.True(Executed < 10_000_000, "runaway thread");
                if (i.Guard is not null && Read(i.Guard) != 0 == i.Negated)
                {
                    continue;
                }

                if (i.Op.StartsWith("mma.", StringComparison.Ordinal))
                {
                    AtMma = i;
                    return;
                }

                if (Execute(i))
                {
                    AtBarrier = true;
                    return;
                }
            }
        }

        /// <summary>Executes one instruction; true at a barrier.</summary>
        private bool Execute(Instruction i)
        {
            var o = i.Operands;
            switch (i.Op)
            {
                case "ld.param.u64":
                case "ld.param.u32":
                    Write(o[0], parameters[o[1].Trim('[', ']')]);
                    break;
                case "cvta.to.global.u64":
                case "mov.u32":
                case "cvt.u64.u32":
                    Write(o[0], Value(o[1]));
                    break;
                case "shl.b32":
                    Write(o[0], (uint)(Value(o[1]) << (int)Value(o[2])));
                    break;
                case "shr.u32":
                    Write(o[0], (uint)Value(o[1]) >> (int)Value(o[2]));
                    break;
                case "xor.b32":
                    Write(o[0], (uint)(Value(o[1]) ^ Value(o[2])));
                    break;
                case "mad.hi.u32":
                    Write(o[0], (uint)(((Value(o[1]) * Value(o[2])) >> 32) + Value(o[3])));
                    break;
                case "setp.le.u32":
                    Write(o[0], (uint)Value(o[1]) <= (uint)Value(o[2]) ? 1UL : 0);
                    break;
                case "and.b32":
                    Write(o[0], (uint)(Value(o[1]) & Value(o[2])));
                    break;
                case "add.u32":
                    Write(o[0], (uint)(Value(o[1]) + Value(o[2])));
                    break;
                case "add.s64":
                    Write(o[0], Value(o[1]) + Value(o[2]));
                    break;
                case "mul.lo.u32":
                    Write(o[0], (uint)(Value(o[1]) * Value(o[2])));
                    break;
                case "mad.lo.u32":
                    Write(o[0], (uint)((Value(o[1]) * Value(o[2])) + Value(o[3])));
                    break;
                case "mul.wide.u32":
                    Write(o[0], (ulong)(uint)Value(o[1]) * (uint)Value(o[2]));
                    break;
                case "min.u32":
                    Write(o[0], Math.Min((uint)Value(o[1]), (uint)Value(o[2])));
                    break;
                case "setp.ge.u32":
                    Write(o[0], (uint)Value(o[1]) >= (uint)Value(o[2]) ? 1UL : 0);
                    break;
                case "setp.lt.u32":
                    Write(o[0], (uint)Value(o[1]) < (uint)Value(o[2]) ? 1UL : 0);
                    break;
                case "setp.eq.u32":
                    Write(o[0], (uint)Value(o[1]) == (uint)Value(o[2]) ? 1UL : 0);
                    break;
                case "setp.lt.and.u32":
                    Write(o[0], (uint)Value(o[1]) < (uint)Value(o[2]) && Read(o[3]) != 0 ? 1UL : 0);
                    break;
                case "bfe.u32":
                    {
                        var (pos, len) = ((int)Value(o[2]), (int)Value(o[3]));
                        Assert.InRange(len, 1, 31);
                        Write(o[0], ((uint)Value(o[1]) >> pos) & ((1u << len) - 1));
                        break;
                    }
                case "prmt.b32":
                    Write(o[0], Prmt((uint)Value(o[1]), (uint)Value(o[2]), (uint)Value(o[3])));
                    break;
                case "dp4a.u32.u32":
                    {
                        uint a = (uint)Value(o[1]), b = (uint)Value(o[2]), c = (uint)Value(o[3]);
                        for (var k = 0; k < 32; k += 8)
                        {
                            c += ((a >> k) & 0xFF) * ((b >> k) & 0xFF);
                        }

                        Write(o[0], c);
                        break;
                    }
                case "dp2a.lo.u32.u32":
                case "dp2a.hi.u32.u32":
                    {
                        // d = c + a.h0 · b.byte(n) + a.h1 · b.byte(n + 1), n = 0 for .lo, 2 for .hi (unsigned).
                        uint a = (uint)Value(o[1]), b = (uint)Value(o[2]), c = (uint)Value(o[3]);
                        var n = i.Op.StartsWith("dp2a.hi", StringComparison.Ordinal) ? 16 : 0;
                        c += ((a & 0xFFFF) * ((b >> n) & 0xFF)) + ((a >> 16) * ((b >> (n + 8)) & 0xFF));
                        Write(o[0], c);
                        break;
                    }

                case "bra":
                case "bra.uni":
                    _pc = code._labels[o[0]];
                    break;
                case "bar.sync":
                    Assert.Equal("0", o[0]);
                    return true;
                case "ret":
                    Assert.True(_copies.Count == 0 && _groups.All(g => g.Count == 0), "a thread ended with copies nobody waited for");
                    Finished = true;
                    break;
                case "cp.async.cg.shared.global":
                    {
                        // The global bytes are read now (inputs do not change during a launch); they land in shared
                        // memory now (EarlyCopies) or when a wait retires their group.
                        Assert.Equal("16", o[2]);
                        var (source, from) = Address(o[1], 16, global: true);
                        var (_, to) = Address(o[0], 16, global: false);
                        if (code.EarlyCopies)
                        {
                            source.AsSpan(from, 16).CopyTo(shared.AsSpan(to));
                        }
                        else
                        {
                            _copies.Add((to, source.AsSpan(from, 16).ToArray()));
                        }

                        break;
                    }

                case "cp.async.commit_group":
                    _groups.Enqueue([.. _copies]);
                    _copies.Clear();
                    break;
                case "cp.async.wait_group":
                    while (_groups.Count > int.Parse(o[0], CultureInfo.InvariantCulture))
                    {
                        foreach (var (offset, bytes) in _groups.Dequeue())
                        {
                            bytes.CopyTo(shared, offset);
                        }
                    }

                    break;
                case "ld.global.nc.u32":
                    Load(o[0], o[1], global: true);
                    break;
                case "ld.global.nc.v2.u32":
                case "ld.global.nc.v4.u32":
                    Load(o[0], o[1], global: true);
                    break;
                case "ld.shared.u32":
                case "ld.shared.v4.u32":
                    Load(o[0], o[1], global: false);
                    break;
                case "st.shared.v4.u32":
                    Store(o[0], o[1], global: false);
                    break;
                case "st.global.v2.u32":
                case "st.global.v4.u32":
                    Store(o[0], o[1], global: true);
                    break;
                default:
                    Assert.Fail($"instruction not modelled: '{i.Text}'");
                    break;
            }

            return false;
        }

        /// <summary>prmt.b32 in its default mode: byte i of the result is byte (c >> 4i) &amp; 7 of {b, a}, its sign replicated when bit 3 of the nibble is set.</summary>
        private static uint Prmt(uint a, uint b, uint c)
        {
            var source = ((ulong)b << 32) | a;
            uint d = 0;
            for (var i = 0; i < 4; i++)
            {
                var selector = (int)((c >> (4 * i)) & 0xF);
                var value = (uint)(source >> (8 * (selector & 7))) & 0xFF;
                if ((selector & 8) != 0)
                {
                    value = (value & 0x80) != 0 ? 0xFFu : 0;
                }

                d |= value << (8 * i);
            }

            return d;
        }

        private void Load(string targets, string address, bool global)
        {
            var regs = Vector(targets);
            var (buffer, offset) = Address(address, regs.Length * 4, global);
            for (var k = 0; k < regs.Length; k++)
            {
                Write(regs[k], BitConverter.ToUInt32(buffer, offset + (4 * k)));
            }
        }

        private void Store(string address, string sources, bool global)
        {
            var regs = Vector(sources);
            var (buffer, offset) = Address(address, regs.Length * 4, global);
            for (var k = 0; k < regs.Length; k++)
            {
                BitConverter.TryWriteBytes(buffer.AsSpan(offset + (4 * k)), (uint)Value(regs[k]));
            }
        }

        private static string[] Vector(string operand) => operand.StartsWith('{') ? [.. operand.Trim('{', '}').Split(',').Select(r => r.Trim())] : [operand];

        private (byte[] Buffer, int Offset) Address(string operand, int bytes, bool global)
        {
            var inner = operand.Trim('[', ']');
            var plus = inner.IndexOf('+');
            var address = plus < 0 ? Read(inner) : Read(inner[..plus]) + ulong.Parse(inner[(plus + 1)..], CultureInfo.InvariantCulture);
            if (global)
            {
                return memory.Resolve(address, bytes);
            }

            Assert.True(address + (ulong)bytes <= (ulong)shared.Length, $"shared access of {bytes} bytes at {address} past {shared.Length}");
            Assert.True(address % (ulong)bytes == 0, $"misaligned shared access at {address}");
            return (shared, (int)address);
        }

        private ulong Value(string operand)
        {
            if (operand.StartsWith('%'))
            {
                return operand switch
                {
                    "%tid.x" => tid,
                    "%ntid.x" => ntid,
                    "%ctaid.x" => ctaX,
                    "%ctaid.y" => ctaY,
                    "%nctaid.x" => nctaX,
                    _ => Read(operand),
                };
            }

            if (operand == code._sharedSymbol)
            {
                return (ulong)code.SharedBase; // where the dynamic shared array starts in the block's shared window
            }

            return operand.StartsWith("0x", StringComparison.Ordinal)
                ? ulong.Parse(operand[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture)
                : ulong.Parse(operand, CultureInfo.InvariantCulture);
        }

        private ulong Read(string register)
        {
            Assert.True(code._registerWidths.ContainsKey(register), $"undeclared register {register}");
            Assert.True(_registers.TryGetValue(register, out var value), $"read of {register} before any write");
            return value;
        }

        private void Write(string register, ulong value)
        {
            Assert.True(code._registerWidths.TryGetValue(register, out var width), $"undeclared register {register}");
            _registers[register] = width switch { 64 => value, 1 => value & 1, _ => (uint)value };
        }
    }

    [GeneratedRegex(@"\.extern \.shared \.align 16 \.b8 (\w+)\[\];")]
    private static partial Regex SharedDeclaration();

    [GeneratedRegex(@"\.param \.(u64|u32) (\w+)")]
    private static partial Regex ParameterDeclaration();

    [GeneratedRegex(@"^(%[a-z]+)(?:<(\d+)>)?$")]
    private static partial Regex DeclaredRegister();
}
