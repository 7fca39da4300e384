// The harness (traces, the showcase) grows here.
namespace edgecase {}
