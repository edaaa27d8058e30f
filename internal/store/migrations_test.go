package store

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestReadMigrations(t *testing.T) {
	t.Parallel()
	ms, err := ReadMigrations(fstest.MapFS{
		"migrations/010_later.sql": {Data: []byte("SELECT 10;")},
		"migrations/002_next.sql":  {Data: []byte("SELECT 2;")},
		"migrations/001_init.sql":  {Data: []byte("SELECT 1;")},
		"migrations/README":        {Data: []byte("not a migration")},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.Name+"="+m.SQL)
		if !strings.HasPrefix(m.Name, "0") || m.Version == 0 {
			t.Errorf("migration %+v: want a version from its name", m)
		}
	}
	if want := "001_init.sql=SELECT 1;,002_next.sql=SELECT 2;,010_later.sql=SELECT 10;"; strings.Join(got, ",") != want {
		t.Errorf("got %v, want %s", got, want)
	}
	if _, err := ReadMigrations(fstest.MapFS{"migrations/init.sql": {Data: []byte("SELECT 1;")}}); err == nil ||
		!strings.Contains(err.Error(), "name must start with a number") {
		t.Errorf("unnumbered file: got %v, want an error naming the rule", err)
	}
}
