package judge

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
)

// maxCacheLine bounds one cache record (a judge reply with its key).
const maxCacheLine = 4 << 20

// Cache is a persistent store of judge replies, one JSON object per line
// ({"key": hex sha-256, "reply": text}) in a file that only grows: each new
// reply is appended with a single write, so a crash leaves at most a torn
// last line, which the next Open ignores. It never holds the endpoint, the
// prompt or the API key, only the hash of the endpoint and the request
// (CacheKey). A Cache is safe for concurrent use.
type Cache struct {
	path string
	mu   sync.Mutex
	m    map[string]string
}

type cacheRecord struct {
	Key   string `json:"key"`
	Reply string `json:"reply"`
}

// OpenCache loads the cache file at path (a missing file is an empty
// cache). Lines that do not parse (a torn final write) are skipped.
func OpenCache(path string) (*Cache, error) {
	c := &Cache{path: path, m: map[string]string{}}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	} else if err != nil {
		return nil, fmt.Errorf("judge cache: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxCacheLine)
	for sc.Scan() {
		var r cacheRecord
		if json.Unmarshal(sc.Bytes(), &r) == nil && len(r.Key) == sha256.Size*2 {
			c.m[r.Key] = r.Reply
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("judge cache %s: %w", path, err)
	}
	return c, nil
}

// Path returns the cache file.
func (c *Cache) Path() string { return c.path }

// Len returns the number of cached replies.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// CacheKey hashes what determines a judge reply: the endpoint and the
// request body sent to it (model, messages, temperature, max_tokens).
func CacheKey(endpoint string, request []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d:%s\x00%d:", len(endpoint), endpoint, len(request))
	h.Write(request)
	return hex.EncodeToString(h.Sum(nil))
}

// Get returns the cached reply for key.
func (c *Cache) Get(key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.m[key]
	return r, ok
}

// Put stores reply under key and appends it to the file (O_APPEND, one
// write per record, synced); a new reply under a known key replaces the
// old one (the later line wins when the file is opened).
func (c *Cache) Put(key, reply string) error {
	line, err := json.Marshal(cacheRecord{Key: key, Reply: reply})
	if err != nil {
		return fmt.Errorf("judge cache %s: %w", c.path, err)
	}
	line = append(line, '\n')
	if len(line) > maxCacheLine {
		return fmt.Errorf("judge cache %s: reply of %d bytes too large to cache", c.path, len(line))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[key]; ok && old == reply {
		return nil
	}
	if err := appendLine(c.path, line); err != nil {
		return fmt.Errorf("judge cache %s: %w", c.path, err)
	}
	c.m[key] = reply
	return nil
}

// appendLine appends line in one write, first ending a torn last line
// left by a crash so that the new record starts on its own line.
func appendLine(path string, line []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, st.Size()-1); err == nil && !bytes.Equal(last, []byte{'\n'}) {
			line = append([]byte{'\n'}, line...)
		}
	}
	if _, err := f.Write(line); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
