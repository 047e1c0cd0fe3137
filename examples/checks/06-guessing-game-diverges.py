# l1-loss-and-guessing-game, "The Guessing Game" loop with lr = 10, run until the loss is no longer finite
mse = nn.MSELoss()
attempts = 300
answer = torch.tensor([2, 77, 91], dtype=torch.float64)
guess = torch.tensor([50, 50, 50], dtype=torch.float64)
guess.requires_grad_()
losses, guesses = [], []

for attempt in range(attempts):
    loss = mse(guess, answer)

    loss.backward()
    lr = 10
    step = lr * guess.grad.data
    losses.append(loss.item())
    if not math.isfinite(loss.item()):
        break
    guess.data -= step
    guesses.append(guess.data.clone())
    guess.grad = None

first_infinite = len(losses) - 1
