package gb28181

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/castd/castd/internal/httpx"
)

// SRS's error codes and names for the publish API (srs_kernel_error.hpp).
const (
	codeStreamBusy  = 1028 // ERROR_SYSTEM_STREAM_BUSY
	codeDataInvalid = 3008 // ERROR_HTTP_DATA_INVALID
)

// maxAPIBody bounds the request body of the publish API.
const maxAPIBody = 64 << 10

// PublishRequest is the body of POST /gb/v1/publish/.
type PublishRequest struct {
	ID   string `json:"id"`
	SSRC string `json:"ssrc"`
}

// PublishHandler serves SRS's /gb/v1/publish/: an external SIP server
// asks for a session of a device id and an SSRC, and is told the media
// port to have the device send to, {"code":0,"port":9000,"is_tcp":true};
// errors are {"code":N,"desc":"..."} with SRS's codes. pick returns the
// caster to use, nil when none runs (404).
func PublishHandler(pick func() *Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv := pick()
		if srv == nil {
			httpx.NotFound(w)
			return
		}
		// Each session is set up on its own short connection, as in SRS.
		w.Header().Set("Connection", "Close")
		id, ssrc, err := readPublishRequest(r)
		if err == nil {
			err = srv.Publish(id, ssrc)
		}
		if err != nil {
			code, desc := codeDataInvalid, "HttpResponseData"
			if errors.Is(err, ErrStreamBusy) || errors.Is(err, ErrSSRCBusy) {
				code, desc = codeStreamBusy, "StreamBusy"
			}
			srv.cfg.Log.Warn("gb28181: publish API refused", "err", err, "code", code)
			httpx.WriteJSON(w, r, map[string]any{"code": code, "desc": desc})
			return
		}
		srv.cfg.Log.Info("gb28181: publish API", "id", id, "ssrc", formatSSRC(ssrc))
		httpx.WriteJSON(w, r, map[string]any{"code": 0, "port": srv.MediaPort(), "is_tcp": true})
	})
}

func readPublishRequest(r *http.Request) (string, uint32, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAPIBody+1))
	if err != nil {
		return "", 0, fmt.Errorf("gb28181: read body: %w", err)
	}
	if len(body) > maxAPIBody {
		return "", 0, fmt.Errorf("gb28181: body over %d bytes", maxAPIBody)
	}
	var req PublishRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return "", 0, fmt.Errorf("gb28181: invalid body: %w", err)
	}
	if req.ID == "" {
		return "", 0, errors.New("gb28181: id required")
	}
	if req.SSRC == "" {
		return "", 0, errors.New("gb28181: ssrc required")
	}
	n, err := strconv.ParseUint(req.SSRC, 10, 32)
	if err != nil {
		return "", 0, fmt.Errorf("gb28181: ssrc %q is not a 32-bit decimal number", req.SSRC)
	}
	return req.ID, uint32(n), nil
}
