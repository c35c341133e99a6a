"""Pages, one module per area: auth, projects, nodes (agents, components, links), deployments."""
