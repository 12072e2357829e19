package queryapi

import "net/http"

var hvOrigin = []string{"Origin"}

// cors applies @fastify/cors 8 defaults (rest-api.md §1): every reply allows any origin; a
// preflight (OPTIONS on any path) needs Origin and Access-Control-Request-Method and answers 204.
// It reports whether the request was a preflight (and so is fully answered).
func cors(w http.ResponseWriter, r *http.Request) (done bool) {
	h := w.Header()
	h["Access-Control-Allow-Origin"] = hvStar
	if v, ok := h["Vary"]; ok {
		h["Vary"] = append(v, "Origin")
	} else {
		h["Vary"] = hvOrigin
	}
	if r.Method != http.MethodOptions {
		return false
	}
	if r.Header.Get("Origin") == "" || r.Header.Get("Access-Control-Request-Method") == "" {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		body := "Invalid Preflight Request"
		h.Set("Content-Length", "25")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(body))
		return true
	}
	h.Set("Access-Control-Allow-Methods", "GET,HEAD,PUT,PATCH,POST,DELETE")
	if rh, ok := r.Header["Access-Control-Request-Headers"]; ok && len(rh) > 0 {
		h.Set("Access-Control-Allow-Headers", rh[0])
	}
	h.Set("Vary", "Origin, Access-Control-Request-Headers")
	w.WriteHeader(http.StatusNoContent)
	return true
}
