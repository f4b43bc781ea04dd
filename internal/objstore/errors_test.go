package objstore

import (
	"strings"
	"testing"
)

func TestParseError(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   Error
		text   string
		temp   bool
	}{
		{"S3 document", 404, `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NoSuchKey</Code><Message>The resource you requested does not exist</Message><Resource>/mybucket/myfoto.jpg</Resource><RequestId>4442587FB7D0A2F9</RequestId></Error>`,
			Error{StatusCode: 404, Code: "NoSuchKey", Message: "The resource you requested does not exist", RequestID: "4442587FB7D0A2F9"},
			"s3: 404 NoSuchKey: The resource you requested does not exist (request id 4442587FB7D0A2F9)", false},
		{"signature", 403, `<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match</Message></Error>`,
			Error{StatusCode: 403, Code: "SignatureDoesNotMatch", Message: "The request signature we calculated does not match"},
			"s3: 403 SignatureDoesNotMatch: The request signature we calculated does not match", false},
		{"slow down", 503, `<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`,
			Error{StatusCode: 503, Code: "SlowDown", Message: "Please reduce your request rate."},
			"s3: 503 SlowDown: Please reduce your request rate.", true},
		{"request timeout is a 400", 400, `<Error><Code>RequestTimeout</Code></Error>`,
			Error{StatusCode: 400, Code: "RequestTimeout"}, "s3: 400 RequestTimeout", true},
		{"no body (HEAD)", 404, "", Error{StatusCode: 404}, "s3: 404 Not Found", false},
		{"proxy HTML", 502, "<html>\n<body>\tBad   gateway</body></html>",
			Error{StatusCode: 502, Message: "<html> <body> Bad gateway</body></html>"}, "s3: 502 <html> <body> Bad gateway</body></html>", true},
		// Not XML (the decoder refuses both): the body is shown, made safe for a log line.
		{"control characters and bad UTF-8", 500, "<Error><Code>X\x1b[31m</Code><Message>a\xffb\nc</Message></Error>",
			Error{StatusCode: 500, Message: "<Error><Code>X [31m</Code><Message>a?b c</Message></Error>"},
			"s3: 500 <Error><Code>X [31m</Code><Message>a?b c</Message></Error>", true},
		{"entities", 400, "<Error><Code>Bad&amp;Code</Code><Message>line1&#10;line2</Message></Error>",
			Error{StatusCode: 400, Code: "Bad&Code", Message: "line1 line2"}, "s3: 400 Bad&Code: line1 line2", false},
		{"another root element", 400, `<Other><Code>X</Code></Other>`,
			Error{StatusCode: 400, Message: "<Other><Code>X</Code></Other>"}, "s3: 400 <Other><Code>X</Code></Other>", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseError(tt.status, []byte(tt.body))
			if *got != tt.want {
				t.Errorf("got %+v\nwant %+v", *got, tt.want)
			}
			if got.Error() != tt.text {
				t.Errorf("text %q\nwant %q", got.Error(), tt.text)
			}
			if got.Temporary() != tt.temp {
				t.Errorf("Temporary %v", got.Temporary())
			}
		})
	}
}

func TestParseErrorBounds(t *testing.T) {
	long := "<Error><Code>" + strings.Repeat("C", 500) + "</Code><Message>" + strings.Repeat("m ", 100000) + "</Message></Error>"
	e := ParseError(500, []byte(long))
	if len(e.Code) > 110 || len(e.Message) > 400 {
		t.Errorf("code %d bytes, message %d bytes", len(e.Code), len(e.Message))
	}
	if e.Code == "" && e.Message == "" {
		t.Error("nothing kept of a long error")
	}
}

func TestIsErrorDocument(t *testing.T) {
	for body, want := range map[string]bool{
		`<?xml version="1.0"?><Error><Code>InternalError</Code></Error>`: true,
		"\n\n<Error/>": true,
		`<?xml version="1.0"?><CompleteMultipartUploadResult><ETag>x</ETag></CompleteMultipartUploadResult>`: false,
		"":                          false,
		"Error":                     false,
		"<!-- c --><Error></Error>": true,
	} {
		if got := isErrorDocument([]byte(body)); got != want {
			t.Errorf("isErrorDocument(%q) = %v", body, got)
		}
	}
}
