package server

// RouteInfo is one row of the API route table, as the tests of the
// external package see it.
type RouteInfo struct {
	Method, Pattern, Role string
}

// Routes lists the table the mux is made from, in its order. The server
// that binds the handlers is never served: only the rows are read.
func Routes() []RouteInfo {
	s := &Server{}
	var out []RouteInfo
	for _, rt := range s.apiRoutes() {
		out = append(out, RouteInfo{Method: rt.method, Pattern: rt.pattern, Role: rt.role})
	}
	return out
}
