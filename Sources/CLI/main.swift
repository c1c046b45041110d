print("gan-lab")
