package server

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/edge"
	"github.com/castd/castd/internal/format/amf"
	"github.com/castd/castd/internal/forward"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/streamurl"
)

// discoverTimeout bounds the whole coworker query of one play.
const discoverTimeout = 10 * time.Second

// discoverClient asks coworkers; plays of inactive streams are rare
// enough not to keep connections to them.
var discoverClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// newEdge runs the pulls of vhosts with cluster mode remote.
func newEdge(s *Server) *edge.Edge {
	return edge.New(edge.Options{Hub: s.hub, Log: s.log, Info: s.rtmp.ServerInfo, Vhost: s.edgeVhost, Context: s.startedContext})
}

// edgeVhost is an edge vhost's cluster and stream settings as configured now.
func (s *Server) edgeVhost(name string) (conf.Cluster, hub.StreamOptions, bool) {
	v := s.config().Vhost(name)
	if v == nil || !v.Enabled || !v.Cluster.IsEdge() {
		return conf.Cluster{}, hub.StreamOptions{}, false
	}
	c := v.Cluster
	c.Origin = slices.Clone(c.Origin)
	return c, streamOptions(v), true
}

// startedContext is the context Start was given, nil before.
func (s *Server) startedContext() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ctx
}

// clusterRTMP fills the RTMP vhost's cluster hooks: token traverse on an
// edge, coworker discovery on an origin of an origin cluster.
func (s *Server) clusterRTMP(v *conf.Vhost, out *rtmpVhostHooks) {
	c := v.Cluster
	if c.IsEdge() && c.TokenTraverse {
		name := v.Name
		out.tokenCheck = func(ctx context.Context, tcURL string, args amf.Object) error {
			return s.edge.CheckToken(ctx, name, tcURL, args)
		}
	}
	if !c.IsEdge() && c.OriginCluster && len(c.Coworkers) > 0 {
		coworkers := slices.Clone(c.Coworkers)
		out.discover = func(ctx context.Context, key hub.Key, req *streamurl.Request) (string, error) {
			ctx, cancel := context.WithTimeout(ctx, discoverTimeout)
			defer cancel()
			return edge.Discover(ctx, discoverClient, coworkers, key, req)
		}
	}
}

type rtmpVhostHooks struct {
	tokenCheck func(ctx context.Context, tcURL string, args amf.Object) error
	discover   func(ctx context.Context, key hub.Key, req *streamurl.Request) (string, error)
}

// newEdgePush pushes streams published on edge vhosts to their origins;
// a push that fails ends the publisher.
func newEdgePush(s *Server) *streamTasks {
	return &streamTasks{s: s, runs: map[*hub.Stream]*streamTask{},
		setup: func(v *conf.Vhost) (any, bool) {
			c := v.Cluster
			return edgeKey{origins: slices.Clone(c.Origin), vhost: c.Vhost, debug: c.DebugSRSUpnode}, c.IsEdge()
		},
		run: func(ctx context.Context, st *hub.Stream, v *conf.Vhost) {
			pub := st.Snapshot().Publisher
			if pub.Protocol == edge.ProtocolPull {
				return // pulled from the origin: nothing to push back
			}
			job := forward.Job{Key: st.Key, Publisher: publisherRequest(st), StreamOptions: streamOptions(v), ViewerOptions: viewerOptions(v)}
			s.edge.Push(ctx, job, func() { _ = s.stats.Kick(pub.ID) })
		},
	}
}

// edgeKey is what restarts an edge push on reload.
type edgeKey struct {
	origins []string
	vhost   string
	debug   bool
}
