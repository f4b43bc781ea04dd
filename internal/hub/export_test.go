package hub

// ringLen reports how many packets the stream's ring holds.
func (s *Stream) ringLen() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ring.len()
}
