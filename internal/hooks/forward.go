package hooks

import "encoding/json"

// parseForwardURLs reads the forward backend's answer, which already passed
// the hook contract: {"code":0,"data":{"urls":["rtmp://...", ...]}}.
func parseForwardURLs(e Event, backend, clientID string, request, resp []byte) ([]string, error) {
	var answer struct {
		Data *struct {
			URLs []json.RawMessage `json:"urls"`
		} `json:"data"`
	}
	fail := func(reason string) error {
		return &Error{Event: e, URL: backend, ClientID: clientID, Request: string(request),
			Code: CodeResponseData, Status: 200, Body: cutBody(resp), Reason: reason}
	}
	if err := json.Unmarshal(resp, &answer); err != nil || answer.Data == nil {
		return nil, fail("no data object in the answer")
	}
	if answer.Data.URLs == nil {
		return nil, fail("no urls array in data")
	}
	var urls []string
	for _, raw := range answer.Data.URLs {
		var s string
		if json.Unmarshal(raw, &s) == nil && s != "" {
			urls = append(urls, s)
		}
	}
	return urls, nil
}
