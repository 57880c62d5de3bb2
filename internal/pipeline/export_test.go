package pipeline

// Waiting is how many batches wait for the group in flight to end.
func Waiting(g *Group) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.waiting)
}
