# exploring-loss-functions, "Negative Log Loss"
nll = nn.NLLLoss()
y_pred = torch.tensor([[0.5153, 0.7051, 0.4947, 0.3446,  0.5288],
        [0.3464, 0.2458, 0.8569, 0.4821, 0.3244],
        [0.4474, 0.6615,  0.0062,  0.6603, 0.2461]])
y_true = torch.tensor([1, 0, 4])
softmax = nn.LogSoftmax(dim=1)
