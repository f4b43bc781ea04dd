package rtcpub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/castd/castd/internal/bench/failure"
)

// Limits of the signalling.
const (
	maxAnswerBytes = 64 << 10
	// deleteTimeout bounds the DELETE that ends a WHIP session.
	deleteTimeout = 2 * time.Second
	userAgent     = "castbench"
)

// apiRequest is the body of SRS's POST /rtc/v1/publish/.
type apiRequest struct {
	API       string  `json:"api"`
	TID       string  `json:"tid"`
	StreamURL string  `json:"streamurl"`
	ClientIP  *string `json:"clientip"` // null, as SRS's own publisher sends
	SDP       string  `json:"sdp"`
}

// apiAnswer is what SRS's JSON API answers: code 0 and the SDP, or an
// error code.
type apiAnswer struct {
	Code      int    `json:"code"`
	SDP       string `json:"sdp"`
	SessionID string `json:"sessionid"`
}

// Negotiate sends the offer to the endpoint and returns the answer and,
// for WHIP, the session URL to DELETE at the end ("" when none). tid names
// the request in the JSON API's body.
func Negotiate(ctx context.Context, client *http.Client, ep Endpoint, offer, tid string) (answer, location string, err error) {
	var req *http.Request
	switch ep.Signalling {
	case JSONAPI:
		body, err := json.Marshal(apiRequest{API: ep.URL, TID: tid, StreamURL: ep.StreamURL, SDP: offer})
		if err != nil {
			return "", "", fmt.Errorf("rtcpub: encode request: %w", err)
		}
		if req, err = http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body)); err != nil {
			return "", "", fmt.Errorf("rtcpub: %w", err)
		}
		req.Header.Set("Content-Type", "application/json")
	default:
		if req, err = http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, strings.NewReader(offer)); err != nil {
			return "", "", fmt.Errorf("rtcpub: %w", err)
		}
		req.Header.Set("Content-Type", "application/sdp")
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			// SRS and castd refuse a WHIP offer by closing the connection.
			return "", "", failure.Mark(failure.Rejected, fmt.Errorf("rtcpub: POST %s: closed without an answer: %w", ep.URL, err))
		}
		return "", "", fmt.Errorf("rtcpub: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return "", "", fmt.Errorf("rtcpub: read answer: %w", err)
	}
	if len(body) > maxAnswerBytes {
		return "", "", failure.Mark(failure.BadData, fmt.Errorf("rtcpub: POST %s: an answer over %d bytes", ep.URL, maxAnswerBytes))
	}
	if ep.Signalling == JSONAPI {
		answer, err := parseAPIAnswer(resp.StatusCode, resp.Status, body, ep.URL)
		return answer, "", err
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return "", "", failure.Mark(failure.HTTPStatus, fmt.Errorf("rtcpub: POST %s: %s", ep.URL, resp.Status))
	}
	if loc, err := resp.Location(); err == nil {
		location = loc.String()
	}
	return string(body), location, nil
}

// parseAPIAnswer reads the JSON API's answer: an HTTP error, a code other
// than 0 (the server refused) or a body without an SDP are errors.
func parseAPIAnswer(statusCode int, status string, body []byte, endpoint string) (string, error) {
	if statusCode != http.StatusOK {
		return "", failure.Mark(failure.HTTPStatus, fmt.Errorf("rtcpub: POST %s: %s", endpoint, status))
	}
	var a apiAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return "", failure.Mark(failure.BadData, fmt.Errorf("rtcpub: POST %s: answer is not JSON: %w", endpoint, err))
	}
	if a.Code != 0 {
		return "", failure.Mark(failure.Rejected, fmt.Errorf("rtcpub: POST %s: the server refused with code %d", endpoint, a.Code))
	}
	if a.SDP == "" {
		return "", failure.Mark(failure.BadData, fmt.Errorf("rtcpub: POST %s: answer without an sdp", endpoint))
	}
	return a.SDP, nil
}

// Delete ends a WHIP session, as publishers do when they leave; it is best
// effort (the server also notices the connection close).
func Delete(ctx context.Context, client *http.Client, location string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deleteTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, location, nil)
	if err != nil {
		return
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := client.Do(req)
	if err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswerBytes))
	_ = resp.Body.Close()
}
