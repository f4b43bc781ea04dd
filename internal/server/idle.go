package server

import (
	"context"
	"time"

	"github.com/castd/castd/internal/edge"
	"github.com/castd/castd/internal/hub"
)

// idleSweep is how often publishers are checked for kickoff_for_idle.
const idleSweep = time.Second

// kickIdlePublishers is publish.kickoff_for_idle (SRS #3105): a publisher
// nobody has played for that long is disconnected, so an encoder left
// running on a stream nobody watches stops costing the server. HLS, DASH,
// DVR and forward do not count as players, as in SRS.
func (s *Server) kickIdlePublishers(ctx context.Context) {
	defer s.wg.Done()
	t := time.NewTicker(idleSweep)
	defer t.Stop()
	// Since when each published stream has had no player; zero while
	// watched. Keyed by publish too, so a republish starts afresh.
	type publish struct {
		st *hub.Stream
		at time.Time
	}
	unwatched := map[publish]time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cfg := s.config()
		now := time.Now()
		seen := map[publish]bool{}
		for _, st := range s.hub.Streams() {
			if st.Key.Variant != "" || !st.Publishing() {
				continue
			}
			v := cfg.Vhost(st.Key.Vhost)
			if v == nil || v.Publish.KickoffForIdle <= 0 {
				continue
			}
			snap := st.Snapshot()
			key := publish{st, snap.PublishedAt}
			seen[key] = true
			if st.CountViewers(edge.IsPlayer) > 0 {
				unwatched[key] = time.Time{}
				continue
			}
			since, known := unwatched[key]
			switch {
			case !known:
				since = snap.PublishedAt // never watched since it was published
			case since.IsZero():
				since = now // the last player just left
			}
			unwatched[key] = since
			if now.Sub(since) < v.Publish.KickoffForIdle || snap.Publisher.Protocol == edge.ProtocolPull {
				continue
			}
			s.log.Warn("publish: kicked off, nobody played the stream", "stream", st.Key.String(),
				"client", snap.Publisher.ID, "idle", now.Sub(since).Round(time.Second), "kickoff_for_idle", v.Publish.KickoffForIdle)
			if err := s.stats.Kick(snap.Publisher.ID); err != nil {
				s.log.Warn("publish: kickoff_for_idle could not end the publisher", "client", snap.Publisher.ID, "err", err)
			}
			unwatched[key] = now // a publisher that could not be kicked is not retried every second
		}
		for key := range unwatched {
			if !seen[key] {
				delete(unwatched, key)
			}
		}
	}
}
