package hfhub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// fileMeta is what a HEAD request tells about a file.
type fileMeta struct {
	commit string
	etag   string
	size   int64 // -1 when unknown
}

// fetch makes file present in the snapshot. It returns false when the
// file does not exist on the hub and required is false.
func (d *downloader) fetch(ctx context.Context, file string, required bool) (bool, error) {
	rev := d.commit
	if rev == "" {
		rev = d.revision
	}
	meta, err := d.head(ctx, rev, file)
	if errors.Is(err, ErrNotFound) && !required {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if d.commit == "" {
		if meta.commit == "" || !safeName.MatchString(meta.commit) {
			return false, fmt.Errorf("%s: the hub sent no valid X-Repo-Commit header", file)
		}
		d.commit = meta.commit
	}
	blob := filepath.Join(d.repo, "blobs", meta.etag)
	if info, err := os.Stat(blob); err != nil || (meta.size >= 0 && info.Size() != meta.size) {
		if err := d.download(ctx, file, blob, meta); err != nil {
			return false, err
		}
	} else {
		d.progress(file, info.Size(), info.Size())
	}
	if err := linkSnapshot(blob, filepath.Join(d.snapshot(), file)); err != nil {
		return false, fmt.Errorf("%s: %w", file, err)
	}
	return true, nil
}

// head asks for a file's commit, etag and size without following the
// redirect of large (LFS) files, as huggingface_hub does.
func (d *downloader) head(ctx context.Context, rev, file string) (fileMeta, error) {
	client := *d.client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	u := d.fileURL(rev, file)
	for hops := 0; ; hops++ {
		req, err := d.newRequest(ctx, http.MethodHead, u)
		if err != nil {
			return fileMeta{}, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return fileMeta{}, fmt.Errorf("%s: %w", file, err)
		}
		resp.Body.Close()
		h := resp.Header
		redirect := resp.StatusCode >= 300 && resp.StatusCode < 400
		if redirect && h.Get("X-Linked-Etag") == "" && hops < 5 {
			loc, err := resp.Location() // renamed repository: follow
			if err != nil {
				return fileMeta{}, fmt.Errorf("%s: redirect without location", file)
			}
			u = loc.String()
			continue
		}
		if !redirect && resp.StatusCode/100 != 2 {
			return fileMeta{}, statusError(file, resp)
		}
		meta := fileMeta{commit: h.Get("X-Repo-Commit"), size: -1}
		meta.etag = normalizeEtag(firstNonEmpty(h.Get("X-Linked-Etag"), h.Get("ETag")))
		if n, err := strconv.ParseInt(firstNonEmpty(h.Get("X-Linked-Size"), h.Get("Content-Length")), 10, 64); err == nil && n >= 0 {
			meta.size = n
		}
		if !safeName.MatchString(meta.etag) {
			return fileMeta{}, fmt.Errorf("%s: the hub sent no usable ETag (%q)", file, meta.etag)
		}
		return meta, nil
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// normalizeEtag strips the weak prefix and quotes of an ETag.
func normalizeEtag(e string) string {
	e = strings.TrimPrefix(strings.TrimSpace(e), "W/")
	return strings.Trim(e, `"`)
}

// download fetches file into blob, resuming blob.incomplete, verifying
// the size and (for LFS files, whose etag is a sha256) the hash, then
// renaming it into place.
func (d *downloader) download(ctx context.Context, file, blob string, meta fileMeta) error {
	if err := os.MkdirAll(filepath.Dir(blob), 0o755); err != nil {
		return err
	}
	part := blob + ".incomplete"
	out, err := os.OpenFile(part, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	have, err := out.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if meta.size < 0 || have < meta.size {
		if err := d.get(ctx, file, out, have, meta.size); err != nil {
			return err
		}
	}
	if err := out.Sync(); err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if err := verifyBlob(file, part, meta); err != nil {
		os.Remove(part)
		return err
	}
	return os.Rename(part, blob)
}

// get appends the bytes of file from offset have to out.
func (d *downloader) get(ctx context.Context, file string, out *os.File, have, total int64) error {
	req, err := d.newRequest(ctx, http.MethodGet, d.fileURL(d.commit, file))
	if err != nil {
		return err
	}
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0:
	case resp.StatusCode == http.StatusOK: // range ignored: start over
		have = 0
		if err := out.Truncate(0); err != nil {
			return err
		}
		if _, err := out.Seek(0, io.SeekStart); err != nil {
			return err
		}
	default:
		return statusError(file, resp)
	}
	buf := make([]byte, 256<<10)
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			if _, err := out.Write(buf[:n]); err != nil {
				return err
			}
			have += int64(n)
			d.progress(file, have, total)
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%s: %w", file, ctx.Err())
			}
			return fmt.Errorf("%s: %w", file, rerr)
		}
	}
}

// verifyBlob checks a downloaded file's size and, when the etag is a
// sha256 digest, its content hash.
func verifyBlob(file, path string, meta fileMeta) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return err
	}
	if meta.size >= 0 && n != meta.size {
		return fmt.Errorf("%s: got %d bytes, want %d", file, n, meta.size)
	}
	if sha256Hex.MatchString(meta.etag) {
		if got := hex.EncodeToString(h.Sum(nil)); got != meta.etag {
			return fmt.Errorf("%s: sha256 %s does not match etag %s", file, got, meta.etag)
		}
	}
	return nil
}

// linkSnapshot points the snapshot file at its blob with a relative
// symlink (a hard link or copy where symlinks are unavailable), replacing
// any old link atomically.
func linkSnapshot(blob, link string) error {
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return err
	}
	target, err := filepath.Rel(filepath.Dir(link), blob)
	if err != nil {
		return err
	}
	tmp := link + ".tmp-link"
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		if err := os.Link(blob, tmp); err != nil {
			return err
		}
	}
	return os.Rename(tmp, link)
}

// writeFileAtomic writes data to path through a synced temporary file.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
