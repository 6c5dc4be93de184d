package figure

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"
)

// CheckFile verifies that an exported figure parses in the format its
// extension names: a PNG decodes, an SVG is well-formed XML with an <svg>
// element, a PDF has its header and at least one page.
func CheckFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	switch ext := filepath.Ext(path); ext {
	case ".png":
		if _, err := png.Decode(bytes.NewReader(data)); err != nil {
			return fmt.Errorf("%s: not a PNG: %w", path, err)
		}
	case ".svg":
		dec := xml.NewDecoder(bytes.NewReader(data))
		for {
			if _, err := dec.Token(); err == io.EOF {
				break
			} else if err != nil {
				return fmt.Errorf("%s: not XML: %w", path, err)
			}
		}
		if !bytes.Contains(data, []byte("<svg")) {
			return fmt.Errorf("%s: no <svg> element", path)
		}
	case ".pdf":
		if !bytes.HasPrefix(data, []byte("%PDF-")) || !bytes.Contains(data, []byte("/Type /Page")) {
			return fmt.Errorf("%s: no PDF header or page", path)
		}
	default:
		return fmt.Errorf("%s: unknown figure format %q", path, ext)
	}
	return nil
}
