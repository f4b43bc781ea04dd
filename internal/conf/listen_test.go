package conf

import (
	"slices"
	"strings"
	"testing"
)

func TestHTTPServerSeveralListens(t *testing.T) {
	c, err := Parse("t.conf", []byte(`listen 1935;
http_api { enabled on; listen 8081; }
http_server { enabled on; listen 8080 8081 [::1]:8082; }
vhost __defaultVhost__ {}`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.HTTPServer.Listens, []string{"8080", "8081", "[::1]:8082"}) || c.HTTPServer.Listen != "8080" {
		t.Fatalf("listens %v listen %q", c.HTTPServer.Listens, c.HTTPServer.Listen)
	}
	if !c.SharesHTTPServer() {
		t.Fatal("an API on one of the HTTP server's ports shares it")
	}
	_, err = Parse("t.conf", []byte("listen 1935;\nhttp_server { enabled on; listen 8080 nope; }\n"), Options{})
	if err == nil || !strings.Contains(err.Error(), "http_server.listen") {
		t.Fatalf("a bad second endpoint: %v", err)
	}
	env := map[string]string{"SRS_HTTP_SERVER_LISTEN": "9000 9001"}
	c, err = Parse("t.conf", []byte("listen 1935;\nvhost __defaultVhost__ {}\n"), Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil || !slices.Equal(c.HTTPServer.Listens, []string{"9000", "9001"}) {
		t.Fatalf("env listens %v %v", c.HTTPServer.Listens, err)
	}
}
