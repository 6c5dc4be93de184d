package chat

import (
	"strings"

	"github.com/nikolalohinski/gonja/v2/builtins/methods"
	"github.com/nikolalohinski/gonja/v2/exec"
)

// strMethodNames lists the gonja string methods kept as they are.
var strMethodNames = []string{
	"capitalize", "capwords", "casefold", "center", "count", "encode",
	"endswith", "expandtabs", "find", "format", "format_map", "isalnum",
	"isalpha", "isascii", "isdecimal", "isdigit", "islower", "isnumeric",
	"isprintable", "isspace", "istitle", "isupper", "join", "ljust", "lower",
	"partition", "removeprefix", "removesuffix", "replace", "rfind", "rjust",
	"rpartition", "rsplit", "split", "splitlines", "startswith", "swapcase",
	"title", "upper", "zfill",
}

// pythonMethods returns gonja's methods with str.strip, str.lstrip and
// str.rstrip replaced: gonja v2.9.1 passes a rune as the default cutset of
// lstrip/rstrip (an error on every call without arguments), while Python
// strips all whitespace when chars is omitted or None.
func pythonMethods() exec.Methods {
	str := map[string]exec.Method[string]{
		"strip":  stripMethod(strings.Trim, bothSpace),
		"lstrip": stripMethod(strings.TrimLeft, leftSpace),
		"rstrip": stripMethod(strings.TrimRight, rightSpace),
	}
	for _, name := range strMethodNames {
		if m, ok := methods.All.Str.Get(name); ok {
			str[name] = m
		}
	}
	all := methods.All
	all.Str = exec.NewMethodSet(str)
	return all
}

func leftSpace(s string) string  { return strings.TrimLeftFunc(s, isPySpace) }
func rightSpace(s string) string { return strings.TrimRightFunc(s, isPySpace) }

// isPySpace reports the characters Python's str.isspace accepts for strip;
// unicode.IsSpace lacks U+001C..U+001F, which Python strips.
func isPySpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\v', '\f', '\r', 0x1c, 0x1d, 0x1e, 0x1f, 0x85, 0xa0,
		0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// stripMethod builds a Python-style strip method: cut trims the given
// characters, space trims whitespace when chars is absent or None.
func stripMethod(cut func(string, string) string, space func(string) string) exec.Method[string] {
	return func(self string, _ *exec.Value, args *exec.VarArgs) (any, error) {
		if len(args.KwArgs) > 0 || len(args.Args) > 1 {
			return nil, exec.ErrInvalidCall(errStripArgs)
		}
		if len(args.Args) == 0 || args.Args[0].IsNil() {
			return space(self), nil
		}
		if !args.Args[0].IsString() {
			return nil, exec.ErrInvalidCall(errStripArgs)
		}
		return cut(self, args.Args[0].String()), nil
	}
}

func bothSpace(s string) string { return strings.TrimFunc(s, isPySpace) }
