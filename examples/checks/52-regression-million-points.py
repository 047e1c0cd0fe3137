# The same graph in PyTorch; noise is gradwire's randn (equal to torch.manual_seed(0); torch.randn(1000000))
torch_x = torch.linspace(-1, 1, 1000000)
y = (x * 3 + 2) + noise * 0.1
w = torch.tensor(0., requires_grad=True)
b = torch.tensor(0., requires_grad=True)
optimizer = torch.optim.Adam([w, b], lr=0.1)

losses, ws, bs = [], [], []
for epoch in range(2):
    optimizer.zero_grad()
    loss = F.mse_loss(w * x + b, y)
    losses.append(loss.item())
    loss.backward()
    optimizer.step()
    ws.append(w.detach().clone())
    bs.append(b.detach().clone())
