package chat

import (
	"fmt"

	"github.com/nikolalohinski/gonja/v2/builtins"
	controlStructures "github.com/nikolalohinski/gonja/v2/builtins/control_structures"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/parser"
)

// maxMacroDepth bounds nested calls of one macro: unbounded recursion in
// gonja overflows the Go stack, which kills the process.
const maxMacroDepth = 64

// keptStructures are the gonja tags chat templates may use. include,
// import, from and extends are left out (a chat template is one file, and
// they could only recurse into itself), and so is call (caller recursion).
var keptStructures = []string{
	"autoescape", "block", "filter", "if", "raw", "set", "with", "do",
	"break", "continue", "trans",
}

// chatStructures returns the control structures of the chat environment:
// the kept gonja ones, for without `recursive`, and macro with a depth
// limit.
func chatStructures() *exec.ControlStructureSet {
	set := map[string]parser.ControlStructureParser{
		"for":   forParser,
		"macro": macroParser,
	}
	for _, name := range keptStructures {
		if p, ok := builtins.ControlStructures.Get(name); ok {
			set[name] = p
		}
	}
	return exec.NewControlStructureSet(set)
}

// forParser is gonja's for, refusing recursive loops.
func forParser(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	inner, _ := builtins.ControlStructures.Get("for")
	cs, err := inner(p, args)
	if err != nil {
		return nil, err
	}
	if f, ok := cs.(*controlStructures.ForControlStructure); ok && f.Recursive {
		return nil, fmt.Errorf("line %d: recursive for loops are not supported", f.Position().Line)
	}
	return cs, nil
}

// macroParser is gonja's macro with calls nested at most maxMacroDepth
// deep.
func macroParser(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	inner, _ := builtins.ControlStructures.Get("macro")
	cs, err := inner(p, args)
	if err != nil {
		return nil, err
	}
	m, ok := cs.(*controlStructures.MacroControlStructure)
	if !ok {
		return nil, fmt.Errorf("unexpected macro node %T", cs)
	}
	return &boundedMacro{m}, nil
}

// boundedMacro defines a macro whose function counts its nesting depth.
type boundedMacro struct {
	*controlStructures.MacroControlStructure
}

// Execute implements nodes.ControlStructure.
func (b *boundedMacro) Execute(r *exec.Renderer, tag *nodes.ControlStructureBlock) error {
	fn, err := exec.MacroNodeToFunc(b.Macro, r)
	if err != nil {
		return fmt.Errorf("macro %s: %w", b.Name, err)
	}
	depth := 0
	r.Environment.Context.Set(b.Name, func(params *exec.VarArgs) *exec.Value {
		if depth >= maxMacroDepth {
			return exec.AsValue(fmt.Errorf("macro %s nested more than %d deep", b.Name, maxMacroDepth))
		}
		depth++
		defer func() { depth-- }()
		return fn(params)
	})
	return nil
}
