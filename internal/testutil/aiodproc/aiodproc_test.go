package aiodproc

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckDBFindsBrokenFiles: the crash tests' integrity check is not a
// check that cannot fail. A sound file passes; a foreign key pointing
// nowhere and a file with overwritten pages are reported.
func TestCheckDBFindsBrokenFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"CREATE TABLE parent (id INTEGER PRIMARY KEY)",
		"CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id))",
		"CREATE INDEX child_parent ON child(parent_id)",
		"INSERT INTO parent (id) VALUES (1)",
		"INSERT INTO child (id, parent_id) VALUES (1, 1)",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	if err := CheckDB(path); err != nil {
		t.Fatalf("a sound file: %v", err)
	}
	// SQLite enforces foreign keys only when asked to: with them off, a
	// child can point at a parent that does not exist.
	if _, err := db.Exec("INSERT INTO child (id, parent_id) VALUES (2, 99)"); err != nil {
		t.Fatal(err)
	}
	if err := CheckDB(path); err == nil || !strings.Contains(err.Error(), "foreign_key_check") {
		t.Errorf("a dangling foreign key: %v", err)
	}
	if _, err := db.Exec("DELETE FROM child WHERE id = 2"); err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		if _, err := db.Exec("INSERT INTO child (id, parent_id) VALUES (?, 1)", 10+i); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	// Overwrite a page in the middle of the file with garbage.
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	garbage := []byte(strings.Repeat("\xde\xad\xbe\xef", 1024))
	if _, err := f.WriteAt(garbage, fi.Size()-4096); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := CheckDB(path); err == nil {
		t.Error("a file with an overwritten page passed")
	}
}
