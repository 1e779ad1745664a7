"""PPO for teams and single agents: masked MultiDiscrete heads, an entity encoder shared
by teammates, optional GRU memory and centralized critic, and a self-play league."""
