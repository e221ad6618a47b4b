using System.Collections.Generic;
using System.Globalization;

namespace Kiln.Transformers.Templates;

/// <summary>
/// Builds the node tree of a template from its segments: statements (if/elif/else, for with loop controls, set,
/// set blocks, raw) and expressions with Jinja's precedence — conditional, or, and, not, comparisons, + -, ~, * / // %,
/// **, unary, then postfix (attributes, items, slices, calls) with filters and tests binding tightest.
/// </summary>
internal sealed class JinjaParser
{
    readonly List<Segment> _segments;
    int _pos;
    // The expression tokens being read, and the position in them.
    List<Token> _tokens = [];
    int _t;

    JinjaParser(List<Segment> segments) => _segments = segments;

    public static List<Node> Parse(string source)
    {
        var p = new JinjaParser(JinjaLexer.Split(source));
        var body = p.Block(out var end);
        if (end is not null) throw new JinjaException($"unexpected '{end}'", p._segments[p._pos - 1].Line);
        return body;
    }

    /// <summary>Nodes up to a tag that this block does not own (returned in <paramref name="endTag"/>: its keyword), or the end.</summary>
    List<Node> Block(out string? endTag, params string[] ends)
    {
        var nodes = new List<Node>();
        endTag = null;
        while (_pos < _segments.Count)
        {
            var seg = _segments[_pos++];
            switch (seg.Kind)
            {
                case SegmentKind.Text:
                    nodes.Add(new TextNode(seg.Text) { Line = seg.Line });
                    break;
                case SegmentKind.Output:
                    Begin(seg);
                    var e = Expression();
                    Expect(TokenKind.End);
                    nodes.Add(new OutputNode(e) { Line = seg.Line });
                    break;
                default:
                    Begin(seg);
                    var keyword = Peek();
                    if (keyword.Kind != TokenKind.Name) throw new JinjaException($"expected a tag name, got {keyword}", seg.Line);
                    if (System.Array.IndexOf(ends, keyword.Text) >= 0 || keyword.Text.StartsWith("end", System.StringComparison.Ordinal) || keyword.Text is "elif" or "else")
                    {
                        endTag = keyword.Text;
                        return nodes;
                    }
                    _t++;
                    nodes.Add(Statement(keyword.Text, seg.Line));
                    break;
            }
        }
        return nodes;
    }

    Node Statement(string keyword, int line)
    {
        switch (keyword)
        {
            case "if":
            {
                var branches = new List<(Expr, List<Node>)>();
                var condition = Expression();
                Expect(TokenKind.End);
                List<Node>? otherwise = null;
                while (true)
                {
                    var body = Block(out var end);
                    if (end is null) throw new JinjaException("'if' without 'endif'", line);
                    if (end == "elif")
                    {
                        branches.Add((condition, body));
                        _t++;
                        condition = Expression();
                        Expect(TokenKind.End);
                        continue;
                    }
                    branches.Add((condition, body));
                    if (end == "else")
                    {
                        _t++;
                        Expect(TokenKind.End);
                        otherwise = Block(out end);
                    }
                    if (end != "endif") throw new JinjaException($"expected 'endif', got '{end ?? "end of template"}'", line);
                    _t++;
                    Expect(TokenKind.End);
                    return new IfNode(branches, otherwise) { Line = line };
                }
            }
            case "for":
            {
                var targets = new List<string> { Name() };
                while (Accept(",")) targets.Add(Name());
                if (!Peek().IsName("in")) throw new JinjaException($"expected 'in' in the for tag, got {Peek()}", line);
                _t++;
                var items = Conditional(allowIf: false);
                Expr? filter = null;
                if (Peek().IsName("if")) { _t++; filter = Expression(); }
                if (Peek().IsName("recursive")) throw new JinjaException("recursive for loops are not supported", line);
                Expect(TokenKind.End);
                var body = Block(out var end);
                List<Node>? otherwise = null;
                if (end == "else")
                {
                    _t++;
                    Expect(TokenKind.End);
                    otherwise = Block(out end);
                }
                if (end != "endfor") throw new JinjaException($"expected 'endfor', got '{end ?? "end of template"}'", line);
                _t++;
                Expect(TokenKind.End);
                return new ForNode(targets, items, filter, body, otherwise) { Line = line };
            }
            case "set":
            {
                var first = Name();
                if (Accept("."))
                {
                    var attribute = Name();
                    Expect("=");
                    var v = Expression();
                    Expect(TokenKind.End);
                    return new SetNode([first], attribute, v) { Line = line };
                }
                var targets = new List<string> { first };
                while (Accept(",")) targets.Add(Name());
                if (Peek().Kind == TokenKind.End && targets.Count == 1)
                {
                    _t++;
                    var body = Block(out var end);
                    if (end != "endset") throw new JinjaException($"expected 'endset', got '{end ?? "end of template"}'", line);
                    _t++;
                    Expect(TokenKind.End);
                    return new SetBlockNode(first, body) { Line = line };
                }
                Expect("=");
                var value = Expression();
                Expect(TokenKind.End);
                return new SetNode(targets, null, value) { Line = line };
            }
            case "break":
            case "continue":
                Expect(TokenKind.End);
                return new LoopControlNode(keyword == "break" ? Flow.Break : Flow.Continue) { Line = line };
            default:
                throw new JinjaException($"the '{keyword}' tag is not supported (Kiln's templates run if, for, set, break, continue, raw)", line);
        }
    }

    void Begin(Segment seg) { _tokens = seg.Tokens; _t = 0; }
    Token Peek(int ahead = 0) => _tokens[System.Math.Min(_t + ahead, _tokens.Count - 1)];
    int Line => Peek().Line;

    bool Accept(string op)
    {
        if (!Peek().Is(op)) return false;
        _t++;
        return true;
    }

    void Expect(string op)
    {
        if (!Accept(op)) throw new JinjaException($"expected '{op}', got {Peek()}", Line);
    }

    void Expect(TokenKind kind)
    {
        if (Peek().Kind != kind) throw new JinjaException($"expected {(kind == TokenKind.End ? "end of tag" : kind.ToString())}, got {Peek()}", Line);
        _t++;
    }

    string Name()
    {
        var t = Peek();
        if (t.Kind != TokenKind.Name) throw new JinjaException($"expected a name, got {t}", t.Line);
        _t++;
        return t.Text;
    }

    Expr Expression() => Conditional(allowIf: true);

    Expr Conditional(bool allowIf)
    {
        var e = Or();
        while (allowIf && Peek().IsName("if"))
        {
            int line = Line;
            _t++;
            var condition = Or();
            Expr? otherwise = null;
            if (Peek().IsName("else")) { _t++; otherwise = Conditional(allowIf: true); }
            e = new ConditionalExpr(condition, e, otherwise) { Line = line };
        }
        return e;
    }

    Expr Or()
    {
        var e = And();
        while (Peek().IsName("or")) { int line = Line; _t++; e = new BinaryExpr("or", e, And()) { Line = line }; }
        return e;
    }

    Expr And()
    {
        var e = Not();
        while (Peek().IsName("and")) { int line = Line; _t++; e = new BinaryExpr("and", e, Not()) { Line = line }; }
        return e;
    }

    Expr Not()
    {
        if (Peek().IsName("not")) { int line = Line; _t++; return new UnaryExpr("not", Not()) { Line = line }; }
        return Compare();
    }

    Expr Compare()
    {
        var e = Additive();
        while (true)
        {
            var t = Peek();
            int line = t.Line;
            string? op = null;
            if (t.Kind == TokenKind.Operator && t.Text is "==" or "!=" or "<" or ">" or "<=" or ">=") op = t.Text;
            else if (t.IsName("in")) op = "in";
            else if (t.IsName("not") && Peek(1).IsName("in")) { op = "not in"; _t++; }
            if (op is null) return e;
            _t++;
            e = new BinaryExpr(op, e, Additive()) { Line = line };
        }
    }

    Expr Additive()
    {
        var e = Concat();
        while (Peek().Is("+") || Peek().Is("-")) { var t = Peek(); _t++; e = new BinaryExpr(t.Text, e, Concat()) { Line = t.Line }; }
        return e;
    }

    Expr Concat()
    {
        var e = Multiplicative();
        while (Peek().Is("~")) { int line = Line; _t++; e = new BinaryExpr("~", e, Multiplicative()) { Line = line }; }
        return e;
    }

    Expr Multiplicative()
    {
        var e = Power();
        while (Peek().Is("*") || Peek().Is("/") || Peek().Is("//") || Peek().Is("%")) { var t = Peek(); _t++; e = new BinaryExpr(t.Text, e, Power()) { Line = t.Line }; }
        return e;
    }

    Expr Power()
    {
        var e = Unary();
        while (Peek().Is("**")) { int line = Line; _t++; e = new BinaryExpr("**", e, Unary()) { Line = line }; }
        return e;
    }

    Expr Unary()
    {
        if (Peek().Is("-") || Peek().Is("+"))
        {
            var t = Peek();
            _t++;
            return FiltersAndTests(new UnaryExpr(t.Text, Unary()) { Line = t.Line });
        }
        return FiltersAndTests(Postfix(Primary()));
    }

    Expr FiltersAndTests(Expr e)
    {
        while (true)
        {
            if (Accept("|"))
            {
                int line = Line;
                string name = Name();
                var (args, kwargs) = Peek().Is("(") ? Arguments() : ([], []);
                e = new FilterExpr(e, name, args, kwargs) { Line = line };
                continue;
            }
            if (Peek().IsName("is"))
            {
                int line = Line;
                _t++;
                bool negated = false;
                if (Peek().IsName("not")) { negated = true; _t++; }
                string name = Peek().Kind == TokenKind.Operator && Peek().Text is "==" or "!=" ? Peek().Text : null!;
                if (name is not null) _t++;
                else name = Name();
                List<Expr> args = [];
                if (Peek().Is("(")) args = Arguments().Args;
                else if (Peek().Kind is TokenKind.String or TokenKind.Integer or TokenKind.Float || (Peek().Kind == TokenKind.Name && !IsKeyword(Peek().Text)))
                    args = [Postfix(Primary())];
                e = new TestExpr(e, name, args, negated) { Line = line };
                continue;
            }
            return e;
        }
    }

    static bool IsKeyword(string s) => s is "and" or "or" or "not" or "in" or "is" or "if" or "else";

    Expr Postfix(Expr e)
    {
        while (true)
        {
            int line = Line;
            if (Accept("."))
            {
                var t = Peek();
                if (t.Kind is TokenKind.Name) { _t++; e = new AttrExpr(e, t.Text) { Line = line }; }
                else if (t.Kind is TokenKind.Integer) { _t++; e = new ItemExpr(e, new LiteralExpr(long.Parse(t.Text, CultureInfo.InvariantCulture))) { Line = line }; }
                else throw new JinjaException($"expected an attribute name after '.', got {t}", line);
            }
            else if (Accept("["))
            {
                Expr? start = null, stop = null, step = null;
                if (!Peek().Is(":")) start = Expression();
                if (Accept(":"))
                {
                    if (!Peek().Is(":") && !Peek().Is("]")) stop = Expression();
                    if (Accept(":") && !Peek().Is("]")) step = Expression();
                    Expect("]");
                    e = new SliceExpr(e, start, stop, step) { Line = line };
                }
                else
                {
                    Expect("]");
                    e = new ItemExpr(e, start!) { Line = line };
                }
            }
            else if (Peek().Is("("))
            {
                var (args, kwargs) = Arguments();
                e = new CallExpr(e, args, kwargs) { Line = line };
            }
            else return e;
        }
    }

    (List<Expr> Args, List<(string, Expr)> Kwargs) Arguments()
    {
        Expect("(");
        var args = new List<Expr>();
        var kwargs = new List<(string, Expr)>();
        while (!Accept(")"))
        {
            if (Peek().Kind == TokenKind.Name && Peek(1).Is("="))
            {
                string name = Name();
                _t++;
                kwargs.Add((name, Expression()));
            }
            else args.Add(Expression());
            if (!Peek().Is(")")) Expect(",");
        }
        return (args, kwargs);
    }

    Expr Primary()
    {
        var t = Peek();
        _t++;
        switch (t.Kind)
        {
            case TokenKind.String:
            {
                // Adjacent literals concatenate, as in Python.
                string s = t.Text;
                while (Peek().Kind == TokenKind.String) { s += Peek().Text; _t++; }
                return new LiteralExpr(s) { Line = t.Line };
            }
            case TokenKind.Integer: return new LiteralExpr(long.Parse(t.Text, CultureInfo.InvariantCulture)) { Line = t.Line };
            case TokenKind.Float: return new LiteralExpr(double.Parse(t.Text, CultureInfo.InvariantCulture)) { Line = t.Line };
            case TokenKind.Name:
                return t.Text switch
                {
                    "true" or "True" => new LiteralExpr(true) { Line = t.Line },
                    "false" or "False" => new LiteralExpr(false) { Line = t.Line },
                    "none" or "None" => new LiteralExpr(null) { Line = t.Line },
                    _ => new NameExpr(t.Text) { Line = t.Line },
                };
            case TokenKind.Operator when t.Text == "(":
            {
                if (Accept(")")) return new ListExpr([]) { Line = t.Line };
                var first = Expression();
                if (Accept(")")) return first;
                var items = new List<Expr> { first };
                while (Accept(",") && !Peek().Is(")")) items.Add(Expression());
                Expect(")");
                return new ListExpr(items) { Line = t.Line };
            }
            case TokenKind.Operator when t.Text == "[":
            {
                var items = new List<Expr>();
                while (!Accept("]"))
                {
                    items.Add(Expression());
                    if (!Peek().Is("]")) Expect(",");
                }
                return new ListExpr(items) { Line = t.Line };
            }
            case TokenKind.Operator when t.Text == "{":
            {
                var pairs = new List<(Expr, Expr)>();
                while (!Accept("}"))
                {
                    var k = Expression();
                    Expect(":");
                    pairs.Add((k, Expression()));
                    if (!Peek().Is("}")) Expect(",");
                }
                return new DictExpr(pairs) { Line = t.Line };
            }
            default:
                throw new JinjaException($"unexpected {t}", t.Line);
        }
    }
}
