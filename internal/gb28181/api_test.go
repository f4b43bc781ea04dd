package gb28181

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPublishHandler(t *testing.T) {
	tg := newTarget(t)
	c := startCaster(t, testConfig(tg))
	h := PublishHandler(func() *Server { return c.srv })
	for _, tc := range []struct{ body, want string }{
		{`{"id":"cam1","ssrc":"1001"}`, `{"code":0,"is_tcp":true,"port":` + strings.Split(c.media, ":")[1] + `}`},
		{`{"id":"cam1","ssrc":"1001"}`, `{"code":0,"is_tcp":true,"port":`},
		{`{"id":"cam1","ssrc":"1002"}`, `{"code":1028,"desc":"StreamBusy"}`},
		{`{"id":"cam2","ssrc":"1001"}`, `{"code":1028,"desc":"StreamBusy"}`},
		{`{"id":"cam2"}`, `{"code":3008,"desc":"HttpResponseData"}`},
		{`{"ssrc":"5"}`, `{"code":3008,"desc":"HttpResponseData"}`},
		{`{"id":"cam2","ssrc":"x"}`, `{"code":3008,"desc":"HttpResponseData"}`},
		{`{"id":"cam2","ssrc":5}`, `{"code":3008,"desc":"HttpResponseData"}`},
		{`not json`, `{"code":3008,"desc":"HttpResponseData"}`},
		{``, `{"code":3008,"desc":"HttpResponseData"}`},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/gb/v1/publish/", strings.NewReader(tc.body)))
		if w.Code != 200 || !strings.HasPrefix(w.Body.String(), tc.want) || w.Header().Get("Connection") != "Close" {
			t.Errorf("%s: %d %s, want %s", tc.body, w.Code, w.Body.String(), tc.want)
		}
	}
	none := PublishHandler(func() *Server { return nil })
	w := httptest.NewRecorder()
	none.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/gb/v1/publish/", strings.NewReader(`{}`)))
	if w.Code != http.StatusNotFound {
		t.Errorf("without a caster: %d", w.Code)
	}
}
