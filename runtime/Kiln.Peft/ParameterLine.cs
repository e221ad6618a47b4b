using System.Globalization;

namespace Kiln.Peft;

/// <summary>PEFT's <c>print_trainable_parameters</c> line, written once for every adapter kind.</summary>
internal static class ParameterLine
{
    public static string Print((long Trainable, long All) counts)
    {
        string line = Format(counts.Trainable, counts.All);
        System.Console.WriteLine(line);
        return line;
    }

    public static string Format(long trainable, long all) => string.Format(CultureInfo.InvariantCulture,
        "trainable params: {0:N0} || all params: {1:N0} || trainable%: {2:F4}", trainable, all, all == 0 ? 0 : 100.0 * trainable / all);
}
