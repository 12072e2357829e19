package queryapi

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/shardeum/distributor/protocol"
)

// MaxBody is Fastify's default bodyLimit.
const MaxBody = 1 << 20

// readBody returns the request body as the reference's handlers see it: the safeJsonParse'd value
// for application/json, a string for text/plain, undefined without a body. ok is false when a
// framework error (400, 413, 415) was written instead.
func readBody(w http.ResponseWriter, r *http.Request) (body any, ok bool) {
	if r.ContentLength > MaxBody {
		fastifyError(w, http.StatusRequestEntityTooLarge, "FST_ERR_CTP_BODY_TOO_LARGE", "Request body is too large")
		return nil, false
	}
	ct, hasCT := r.Header["Content-Type"]
	noBody := r.ContentLength == 0 || (r.ContentLength < 0 && len(r.TransferEncoding) == 0)
	if !hasCT || len(ct) == 0 {
		if noBody {
			return protocol.Undefined, true
		}
		fastifyError(w, http.StatusUnsupportedMediaType, "FST_ERR_CTP_INVALID_MEDIA_TYPE", "Unsupported Media Type: ")
		return nil, false
	}
	mt := strings.ToLower(strings.TrimSpace(ct[0]))
	isJSON, isText := strings.HasPrefix(mt, "application/json"), strings.HasPrefix(mt, "text/plain")
	if !isJSON && !isText {
		fastifyError(w, http.StatusUnsupportedMediaType, "FST_ERR_CTP_INVALID_MEDIA_TYPE", "Unsupported Media Type: "+ct[0])
		return nil, false
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			fastifyError(w, http.StatusRequestEntityTooLarge, "FST_ERR_CTP_BODY_TOO_LARGE", "Request body is too large")
		} else {
			fastifyError(w, http.StatusBadRequest, "", "Could not read the request body: "+err.Error())
		}
		return nil, false
	}
	if isText {
		return string(data), true
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		fastifyError(w, http.StatusBadRequest, "FST_ERR_CTP_EMPTY_JSON_BODY", "Body cannot be empty when content-type is set to 'application/json'")
		return nil, false
	}
	v, err := protocol.Parse(data)
	if err != nil {
		fastifyError(w, http.StatusBadRequest, "", "Invalid JSON body: "+err.Error())
		return nil, false
	}
	return v, true
}
