package httpx

import (
	"encoding/json"
	"net/http"
)

// WriteJSON answers with v as JSON, always status 200 as SRS's API does (its
// errors are {"code":N} bodies), or as JSONP "fn(json)" when the request has
// a callback (JSONP checked it).
func WriteJSON(w http.ResponseWriter, r *http.Request, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode JSON: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if cb := r.URL.Query().Get("callback"); cb != "" {
		w.Header().Set("Content-Type", "text/javascript")
		out := make([]byte, 0, len(cb)+len(body)+2)
		out = append(append(append(append(out, cb...), '('), body...), ')')
		_, _ = w.Write(out)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}
