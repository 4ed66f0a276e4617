using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using TransformerLab.Data;
using TransformerLab.Runtime;
using TransformerLab.Training;
using Xunit;

namespace TransformerLab.Tests.Training;

/// <summary>
/// The event files <c>research train</c> writes, read back by an independent reader of the format written from its
/// specification: TFRecord framing checked with a bit-by-bit CRC-32C, and the <c>Event</c> / <c>Summary</c> protobufs
/// decoded from the wire format by hand (no generated classes, no library CRC).
/// </summary>
public sealed class TensorBoardEventFileTests : IDisposable
{
    readonly string folder = Path.Combine(Path.GetTempPath(), "tlab-tensorboard-" + Guid.NewGuid().ToString("N"));
    public void Dispose() { if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); }

    [Fact]
    public void Crc32C_matches_the_standard_check_value_and_the_writer_masks_it_as_TFRecord_does()
    {
        var check = Encoding.ASCII.GetBytes("123456789");
        Assert.Equal(0xE3069283u, Reader.Crc32C(check)); // the CRC-32C catalogue's check value
        Assert.Equal(Reader.Mask(Reader.Crc32C(check)), TensorBoardEventFile.MaskedCrc32C(check));
    }

    [Fact]
    public void A_training_run_writes_valid_events_with_unix_wall_times_and_the_logged_values()
    {
        var s = TrainingSettings.For(TaskKind.Copy).WithTransformer(m => m with { DModel = 16, Heads = 2, DFF = 32, EncoderLayers = 1, DecoderLayers = 1 })
            .WithTask(t => t with { Symbols = 6, MinLength = 2, MaxLength = 5, TrainSize = 300, DevSize = 20, TestSize = 20 })
            .WithLoop(l => l with { BatchSize = 16, MaxSteps = 10, EvalEvery = 5, LogEvery = 5 })
            .WithOptimiser(o => o with { Warmup = 2 });
        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 1;
        new Trainer(s, s.LoadData(Workspace.Root(AppContext.BaseDirectory)), folder).Run();
        var after = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1;

        var file = Assert.Single(Directory.GetFiles(Path.Combine(folder, "tensorboard"), "events.out.tfevents.*"));
        var stamp = long.Parse(Path.GetFileName(file).Split('.')[3], CultureInfo.InvariantCulture);
        Assert.InRange(stamp, before, after);

        var events = Reader.Events(File.ReadAllBytes(file));
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        Assert.All(events, e => Assert.InRange(e.WallTime, before, after));

        // Every point of steps.csv and dev.csv is in the events, at its step, with its value (as float).
        var losses = File.ReadAllLines(Path.Combine(folder, "steps.csv")).Skip(1).Select(l => l.Split(','))
            .ToDictionary(f => long.Parse(f[0], CultureInfo.InvariantCulture), f => double.Parse(f[2], CultureInfo.InvariantCulture));
        var logged = events.Where(e => e.Tag == "train/loss").ToDictionary(e => e.Step, e => (double)e.Value);
        Assert.Equal(losses.Keys.Order(), logged.Keys.Order());
        foreach (var (step, loss) in losses) Assert.Equal(loss, logged[step], 4);
        Assert.Equal(new long[] { 5, 10 }, events.Where(e => e.Tag == "dev/sequence_error").Select(e => e.Step));
    }

    /// <summary>What one event holds: the fields this workspace writes.</summary>
    sealed record Event(double WallTime, long Step, string? FileVersion, string? Tag, float Value);

    static class Reader
    {
        public static uint Crc32C(ReadOnlySpan<byte> data)
        {
            uint crc = 0xFFFFFFFF;
            foreach (var b in data)
            {
                crc ^= b;
                for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
            }
            return ~crc;
        }

        public static uint Mask(uint crc) => ((crc >> 15) | (crc << 17)) + 0xa282ead8u;

        /// <summary>Splits the TFRecord stream, checking both checksums of every record.</summary>
        public static List<Event> Events(byte[] file)
        {
            var events = new List<Event>();
            for (var at = 0; at < file.Length;)
            {
                var header = file.AsSpan(at, 8);
                var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(header);
                Assert.Equal(Mask(Crc32C(header)), BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 8, 4)));
                var data = file.AsSpan(at + 12, length);
                Assert.Equal(Mask(Crc32C(data)), BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 12 + length, 4)));
                events.Add(Decode(data.ToArray()));
                at += 12 + length + 4;
            }
            return events;
        }

        // Event: 1 wall_time (double), 2 step (int64), 3 file_version (string), 5 summary (Summary).
        // Summary: 1 value (Value, repeated). Value: 1 tag (string), 2 simple_value (float).
        static Event Decode(byte[] bytes)
        {
            double wall = 0; long step = 0; string? version = null, tag = null; float value = float.NaN;
            foreach (var (field, wire, payload) in Fields(bytes))
            {
                if (field == 1 && wire == 1) wall = BitConverter.Int64BitsToDouble((long)payload.Scalar);
                else if (field == 2 && wire == 0) step = (long)payload.Scalar;
                else if (field == 3 && wire == 2) version = Encoding.UTF8.GetString(payload.Bytes!);
                else if (field == 5 && wire == 2)
                    foreach (var (f, w, v) in Fields(payload.Bytes!))
                        if (f == 1 && w == 2)
                            foreach (var (vf, vw, vv) in Fields(v.Bytes!))
                            {
                                if (vf == 1 && vw == 2) tag = Encoding.UTF8.GetString(vv.Bytes!);
                                else if (vf == 2 && vw == 5) value = BitConverter.Int32BitsToSingle((int)vv.Scalar);
                            }
            }
            return new Event(wall, step, version, tag, value);
        }

        static IEnumerable<(int Field, int Wire, (ulong Scalar, byte[]? Bytes) Payload)> Fields(byte[] bytes)
        {
            var at = 0;
            while (at < bytes.Length)
            {
                var key = Varint(bytes, ref at);
                int field = (int)(key >> 3), wire = (int)(key & 7);
                switch (wire)
                {
                    case 0: yield return (field, wire, (Varint(bytes, ref at), null)); break;
                    case 1: yield return (field, wire, (BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at, 8)), null)); at += 8; break;
                    case 5: yield return (field, wire, (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at, 4)), null)); at += 4; break;
                    case 2:
                        var length = (int)Varint(bytes, ref at);
                        yield return (field, wire, (0, bytes.AsSpan(at, length).ToArray()));
                        at += length;
                        break;
                    default: throw new InvalidDataException($"wire type {wire} is not used by Event");
                }
            }
        }

        static ulong Varint(byte[] bytes, ref int at)
        {
            ulong value = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = bytes[at++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return value;
            }
        }
    }
}
