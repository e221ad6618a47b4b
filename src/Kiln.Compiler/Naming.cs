namespace Kiln.Compiler
{
    /// <summary>How a C# field becomes a module member name (the runtime's reflection and the [Model] generator agree on it).</summary>
    public static class Naming
    {
        /// <summary>
        /// <c>_layer1</c> and <c>m_layer1</c> give <c>layer1</c>; an auto-property's backing field <c>&lt;Layer1&gt;k__BackingField</c>
        /// gives <c>Layer1</c>; anything else stays as written.
        /// </summary>
        public static string MemberName(string field)
        {
            if (field.StartsWith("<"))
            {
                int end = field.IndexOf('>');
                return field.Substring(1, end - 1);
            }
            if (field.StartsWith("m_", System.StringComparison.Ordinal)) return field.Substring(2);
            return field.TrimStart('_');
        }
    }
}
